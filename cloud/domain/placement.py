"""Choosing a host: filters remove hosts, weighers order the rest. Pure functions."""

from collections.abc import Callable, Sequence

import msgspec

from cloud.domain.host import Claim, Ratios


class HostView(msgspec.Struct, frozen=True, kw_only=True):
    """What the scheduler knows of a host, from the host projection."""

    name: str
    up: bool
    vcpus: int
    memory_mb: int
    disk_gb: int
    used: Claim
    ratios: Ratios = Ratios()

    def free(self) -> Claim:
        """Headroom left under the allocation ratios."""
        return Claim(vcpus=int(self.vcpus * self.ratios.cpu) - self.used.vcpus,
                     memory_mb=int(self.memory_mb * self.ratios.ram) - self.used.memory_mb,
                     disk_gb=int(self.disk_gb * self.ratios.disk) - self.used.disk_gb)


Filter = Callable[[Claim, HostView], bool]

FILTERS: dict[str, Filter] = {
    "Compute": lambda want, host: host.up,
    "RAM": lambda want, host: host.free().memory_mb >= want.memory_mb,
    "VCPU": lambda want, host: host.free().vcpus >= want.vcpus,
    "Disk": lambda want, host: host.free().disk_gb >= want.disk_gb,
}


class Placement(msgspec.Struct, frozen=True, kw_only=True):
    """Hosts that passed, best first, and how many each filter removed."""

    hosts: list[str]
    removed: dict[str, int]
    considered: int

    def explain(self) -> str:
        """Nova's NoValidHost, with the reason it never gives."""
        counts = "; ".join(f"{name}: {n} of {self.considered} hosts removed"
                           for name, n in self.removed.items() if n)
        return f"No valid host was found. {counts or 'There are no compute hosts.'}"


def place(want: Claim, hosts: Sequence[HostView]) -> Placement:
    """Filter, then spread: most free RAM first (Nova's default RAM weigher)."""
    removed: dict[str, int] = {}
    remaining = list(hosts)
    for name, keep in FILTERS.items():
        passed = [host for host in remaining if keep(want, host)]
        removed[name] = len(remaining) - len(passed)
        remaining = passed
    remaining.sort(key=lambda host: (-host.free().memory_mb, host.name))
    return Placement(hosts=[host.name for host in remaining], removed=removed,
                     considered=len(hosts))
