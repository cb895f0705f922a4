"""The Host aggregate: a compute host's registered capacity and the claims against it.

Claims are saved with optimistic concurrency on this aggregate, so two schedulers that
pick the same host cannot both take its last free resources.
"""

from collections.abc import Iterable, Mapping

import msgspec

from cloud.domain.errors import HostFull
from cloud.domain.events import Event, HostRegistered, ResourcesClaimed, ResourcesReleased


class Claim(msgspec.Struct, frozen=True, kw_only=True):
    vcpus: int
    memory_mb: int
    disk_gb: int


class Ratios(msgspec.Struct, frozen=True, kw_only=True):
    """Allocation ratios: how far each resource may be overcommitted (Nova's defaults)."""

    cpu: float = 4.0
    ram: float = 1.0
    disk: float = 1.0


# The ratio fields of HostRegistered and Host, by Ratios field.
RATIO_FIELDS = {"cpu": "cpu_allocation_ratio", "ram": "ram_allocation_ratio",
                "disk": "disk_allocation_ratio"}


def with_overrides(default: Ratios, overrides: dict[str, float | None]) -> Ratios:
    """``default`` with each ratio the overrides set (by field name of RATIO_FIELDS)."""
    return Ratios(**{field: overrides.get(name) or getattr(default, field)
                     for field, name in RATIO_FIELDS.items()})


def with_aggregate_ratios(own: Ratios, metadata: Iterable[Mapping[str, str]]) -> Ratios:
    """As Nova's Aggregate*Filter: an aggregate's ``*_allocation_ratio`` metadata (the
    smallest, when several of the host's aggregates set one) overrides the host's own
    ratio; a value that is not a positive number is ignored."""
    found: dict[str, list[float]] = {field: [] for field in RATIO_FIELDS}
    for each in metadata:
        for field, key in RATIO_FIELDS.items():
            try:
                value = float(each[key])
            except (KeyError, ValueError):
                continue
            if value > 0:
                found[field].append(value)
    return Ratios(**{field: min(values) if values else getattr(own, field)
                     for field, values in found.items()})


class Host(msgspec.Struct, frozen=True, kw_only=True):
    name: str
    hypervisor_type: str = ""
    hypervisor_hostname: str = ""
    vcpus: int = 0
    memory_mb: int = 0
    disk_gb: int = 0
    # Set by the host's operator through its compute agent; None: the default applies.
    cpu_allocation_ratio: float | None = None
    ram_allocation_ratio: float | None = None
    disk_allocation_ratio: float | None = None
    claims: dict[str, Claim] = {}

    def ratios(self, default: Ratios = Ratios()) -> Ratios:
        """The ratios claims on this host are checked against."""
        return with_overrides(default, {name: getattr(self, name)
                                        for name in RATIO_FIELDS.values()})

    def used(self) -> Claim:
        """The sum of all claims."""
        return Claim(vcpus=sum(c.vcpus for c in self.claims.values()),
                     memory_mb=sum(c.memory_mb for c in self.claims.values()),
                     disk_gb=sum(c.disk_gb for c in self.claims.values()))


def register(host: Host, *, hypervisor_type: str, hypervisor_hostname: str,
             vcpus: int, memory_mb: int, disk_gb: int,
             cpu_allocation_ratio: float | None = None,
             ram_allocation_ratio: float | None = None,
             disk_allocation_ratio: float | None = None) -> list[Event]:
    """A compute agent reports its capacity and its operator's allocation ratios;
    nothing is recorded if they are unchanged."""
    ratios = {"cpu_allocation_ratio": cpu_allocation_ratio,
              "ram_allocation_ratio": ram_allocation_ratio,
              "disk_allocation_ratio": disk_allocation_ratio}
    for name, ratio in ratios.items():
        if ratio is not None and not ratio > 0:
            raise ValueError(f"{name} must be a positive number, not {ratio}")
    wanted = {"hypervisor_type": hypervisor_type, "hypervisor_hostname": hypervisor_hostname,
              "vcpus": vcpus, "memory_mb": memory_mb, "disk_gb": disk_gb, **ratios}
    if all(getattr(host, field) == value for field, value in wanted.items()):
        return []
    return [HostRegistered(host=host.name, **wanted)]


def shortfall(host: Host, claim: Claim, ratios: Ratios) -> str | None:
    """The first resource the claim would overcommit, or None if it fits."""
    used = host.used()
    if used.vcpus + claim.vcpus > host.vcpus * ratios.cpu:
        return "vcpus"
    if used.memory_mb + claim.memory_mb > host.memory_mb * ratios.ram:
        return "memory_mb"
    if used.disk_gb + claim.disk_gb > host.disk_gb * ratios.disk:
        return "disk_gb"
    return None


RESIZE = "resize"


def claim_key(instance_id: str, kind: str = "") -> str:
    """Where a claim is kept: an instance holds its own, plus one while it resizes."""
    return f"{instance_id}:{kind}" if kind else instance_id


def claim(host: Host, *, instance_id: str, resources: Claim, ratios: Ratios | None = None,
          kind: str = "") -> list[Event]:
    """Reserve resources for an instance; idempotent for the same instance and kind.

    ``ratios`` are what the caller worked out for this host (the scheduler: aggregate
    metadata over the host's own over its default); None: the host's own over Nova's
    defaults.
    """
    if claim_key(instance_id, kind) in host.claims:
        return []
    missing = shortfall(host, resources, host.ratios() if ratios is None else ratios)
    if missing is not None:
        raise HostFull(host.name, missing)
    return [ResourcesClaimed(host=host.name, instance_id=instance_id, vcpus=resources.vcpus,
                             memory_mb=resources.memory_mb, disk_gb=resources.disk_gb,
                             kind=kind)]


def release(host: Host, *, instance_id: str, kind: str | None = None) -> list[Event]:
    """Give back an instance's claims (only the one of ``kind`` when given); nothing to
    do if it holds none."""
    kinds = ["", RESIZE] if kind is None else [kind]
    return [ResourcesReleased(host=host.name, instance_id=instance_id, kind=each)
            for each in kinds if claim_key(instance_id, each) in host.claims]


def confirm_resize(host: Host, *, instance_id: str) -> list[Event]:
    """The resized flavor becomes the instance's own claim; the old one is given back."""
    new = host.claims.get(claim_key(instance_id, RESIZE))
    if new is None:
        return []
    return [*release(host, instance_id=instance_id),
            ResourcesClaimed(host=host.name, instance_id=instance_id, vcpus=new.vcpus,
                             memory_mb=new.memory_mb, disk_gb=new.disk_gb)]


def evolve(host: Host | None, name: str, event: Event) -> Host:
    """Apply one recorded event."""
    host = host or Host(name=name)
    match event:
        case HostRegistered():
            return msgspec.structs.replace(
                host, hypervisor_type=event.hypervisor_type,
                hypervisor_hostname=event.hypervisor_hostname,
                vcpus=event.vcpus, memory_mb=event.memory_mb, disk_gb=event.disk_gb,
                cpu_allocation_ratio=event.cpu_allocation_ratio,
                ram_allocation_ratio=event.ram_allocation_ratio,
                disk_allocation_ratio=event.disk_allocation_ratio)
        case ResourcesClaimed():
            taken = Claim(vcpus=event.vcpus, memory_mb=event.memory_mb, disk_gb=event.disk_gb)
            key = claim_key(event.instance_id, event.kind)
            return msgspec.structs.replace(host, claims={**host.claims, key: taken})
        case ResourcesReleased():
            gone = claim_key(event.instance_id, event.kind)
            rest = {k: v for k, v in host.claims.items() if k != gone}
            return msgspec.structs.replace(host, claims=rest)
    return host
