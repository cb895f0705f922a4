"""Weighers: each gives every host a raw number; placement normalises them to [0, 1],
multiplies by the configured multiplier and sums, as Nova does. Highest total wins."""

from collections.abc import Callable, Sequence

from cloud.domain.placement.model import HostView, RequestSpec

Weigher = Callable[[RequestSpec, HostView], float]


def free_ram(spec: RequestSpec, host: HostView) -> float:
    return host.free.memory_mb


def free_vcpus(spec: RequestSpec, host: HostView) -> float:
    return host.free.vcpus


def free_disk(spec: RequestSpec, host: HostView) -> float:
    return host.free.disk_gb


def num_instances(spec: RequestSpec, host: HostView) -> float:
    return len(host.instances)


def build_failures(spec: RequestSpec, host: HostView) -> float:
    """Hosts whose builds fail drop down the order until they succeed again."""
    return -host.failed_builds


def soft_affinity(spec: RequestSpec, host: HostView) -> float:
    group = spec.group
    if group is None or group.policy != "soft-affinity":
        return 0.0
    return group.members_per_host.get(host.name, 0)


def soft_anti_affinity(spec: RequestSpec, host: HostView) -> float:
    group = spec.group
    if group is None or group.policy != "soft-anti-affinity":
        return 0.0
    return -group.members_per_host.get(host.name, 0)


WEIGHERS: dict[str, Weigher] = {
    "RAM": free_ram,
    "CPU": free_vcpus,
    "Disk": free_disk,
    "NumInstances": num_instances,
    "BuildFailure": build_failures,
    "SoftAffinity": soft_affinity,
    "SoftAntiAffinity": soft_anti_affinity,
}


def normalise(values: Sequence[float]) -> list[float]:
    """Scale to [0, 1]; all equal means no preference (all 0)."""
    if not values:
        return []
    low, high = min(values), max(values)
    if high == low:
        return [0.0] * len(values)
    return [(value - low) / (high - low) for value in values]


def weigh(spec: RequestSpec, hosts: Sequence[HostView],
          multipliers: dict[str, float]) -> list[float]:
    """The total weight of each host, in the order given."""
    totals = [0.0] * len(hosts)
    for name, multiplier in multipliers.items():
        if multiplier == 0.0 or name not in WEIGHERS:
            continue
        raw = [WEIGHERS[name](spec, host) for host in hosts]
        for index, value in enumerate(normalise(raw)):
            totals[index] += multiplier * value
    return totals
