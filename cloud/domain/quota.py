"""Quotas: a project's limits (the QuotaSet aggregate) and what counts against them
(the ProjectUsage aggregate).

A server's request saves its ``UsageReserved`` in the same transaction as the
``InstanceRequested``, expecting the usage stream's version: two creates that race for
the last free instance cannot both be saved. The usage is given back when the server is
deleted (Nova counts servers in ERROR too).

A resize is counted the same way: its request saves a ``UsageChanged`` to the larger of
the old and new flavor for each resource (so a revert always fits), refused when the
increase does not fit; confirming it or finishing its revert saves the flavor it keeps.
"""

import msgspec

from cloud.domain.errors import Invalid, QuotaExceeded
from cloud.domain.events import (
    Event,
    FlavorSpec,
    QuotaSetReset,
    QuotaSetUpdated,
    UsageChanged,
    UsageReleased,
    UsageReserved,
)

UNLIMITED = -1

# Nova's defaults, in the order of Nova's resources. The network ones are kept for the
# shape of the API only (Nova shows them as unlimited).
DEFAULT_LIMITS: dict[str, int] = {
    "cores": 20,
    "injected_files": 5,
    "injected_file_content_bytes": 10240,
    "injected_file_path_bytes": 255,
    "instances": 10,
    "key_pairs": 100,
    "metadata_items": 128,
    "ram": 51200,
    "server_groups": 10,
    "server_group_members": 10,
    "fixed_ips": UNLIMITED,
    "floating_ips": UNLIMITED,
    "security_groups": UNLIMITED,
    "security_group_rules": UNLIMITED,
}

# What a server takes: counted per project, enforced when it is requested.
COUNTED = ("instances", "cores", "ram")


class QuotaSet(msgspec.Struct, frozen=True, kw_only=True):
    """The limits an admin set for a project; everything else is the default."""

    project_id: str
    overrides: dict[str, int] = {}

    def limits(self) -> dict[str, int]:
        """Every resource's limit: the overrides, else the defaults."""
        return {**DEFAULT_LIMITS, **self.overrides}


def _below(limit: int, used: int) -> bool:
    return limit != UNLIMITED and limit < used


def update(quota_set: QuotaSet, changes: dict[str, int], *, in_use: dict[str, int],
           force: bool = False) -> list[Event]:
    """Set some limits; a limit below what is in use is refused unless forced."""
    unknown = sorted(set(changes) - set(DEFAULT_LIMITS))
    if unknown:
        raise Invalid(f"Unknown quota resources {', '.join(unknown)}.")
    for resource, limit in changes.items():
        if limit < UNLIMITED:
            raise Invalid(f"Quota limit {limit} for {resource} must be -1 or greater.")
        if not force and _below(limit, in_use.get(resource, 0)):
            raise Invalid(f"Quota limit {limit} for {resource} must be greater than or"
                          f" equal to already used and reserved {in_use[resource]}.")
    if not changes:
        return []
    return [QuotaSetUpdated(project_id=quota_set.project_id, limits=dict(changes))]


def reset(quota_set: QuotaSet) -> list[Event]:
    """Every limit back to its default (nothing to record when none was set)."""
    return [QuotaSetReset(project_id=quota_set.project_id)] if quota_set.overrides else []


def evolve_quota_set(quota_set: QuotaSet | None, project_id: str, event: Event) -> QuotaSet:
    """Apply one recorded event."""
    quota_set = quota_set or QuotaSet(project_id=project_id)
    match event:
        case QuotaSetUpdated(limits=limits):
            return QuotaSet(project_id=project_id, overrides={**quota_set.overrides, **limits})
        case QuotaSetReset():
            return QuotaSet(project_id=project_id)
    return quota_set


# --- usage ----------------------------------------------------------------------------


class Reservation(msgspec.Struct, frozen=True, kw_only=True):
    cores: int
    ram: int


class ProjectUsage(msgspec.Struct, frozen=True, kw_only=True):
    """The instances that count against a project's quota, with what each takes."""

    project_id: str
    instances: dict[str, Reservation] = {}

    def in_use(self) -> dict[str, int]:
        """Usage by quota resource: instances, cores and ram."""
        held = self.instances.values()
        return {"instances": len(self.instances), "cores": sum(r.cores for r in held),
                "ram": sum(r.ram for r in held)}


def over_quota_message(overs: list[str], requested: dict[str, int],
                       used: dict[str, int], limits: dict[str, int]) -> str:
    """Nova's wording for a refused server request (resources in alphabetical order)."""
    def each(values: dict[str, int]) -> str:
        return ", ".join(str(values[resource]) for resource in overs)
    names = ", ".join(overs)
    return (f"Quota exceeded for {names}: Requested {each(requested)}, but already used"
            f" {each(used)} of {each(limits)} {names}")


def check_metadata(limits: dict[str, int], count: int) -> None:
    """A server's metadata may hold at most ``metadata_items`` items."""
    if _below(limits["metadata_items"], count):
        raise QuotaExceeded(
            f"Maximum number of metadata items exceeds {limits['metadata_items']}")


def reserve(usage: ProjectUsage, limits: dict[str, int], *, instance_id: str, cores: int,
            ram: int) -> list[Event]:
    """Count a new instance against the quota; refused past any limit. Idempotent."""
    if instance_id in usage.instances:
        return []
    requested = {"instances": 1, "cores": cores, "ram": ram}
    used = usage.in_use()
    overs = sorted(resource for resource in COUNTED
                   if _below(limits[resource], used[resource] + requested[resource]))
    if overs:
        raise QuotaExceeded(over_quota_message(overs, requested, used, limits))
    return [UsageReserved(project_id=usage.project_id, instance_id=instance_id,
                          cores=cores, ram=ram)]


def reserve_many(usage: ProjectUsage, limits: dict[str, int], *, instance_ids: list[str],
                 min_count: int, cores: int, ram: int) -> list[Event]:
    """Count the instances of one multi-create request: all of them if they fit, else as
    many as fit but at least ``min_count`` (Nova's rule), else refused naming the
    resources that ``len(instance_ids)`` would exceed."""
    wanted = len(instance_ids)
    per_instance = {"instances": 1, "cores": cores, "ram": ram}
    used = usage.in_use()
    fitting = wanted
    for resource, each in per_instance.items():
        if limits[resource] != UNLIMITED and each:
            fitting = min(fitting, max(limits[resource] - used[resource], 0) // each)
    if fitting < min_count:
        overs = sorted(resource for resource in COUNTED if _below(
            limits[resource], used[resource] + wanted * per_instance[resource]))
        count = str(wanted) if min_count == wanted else f"{min_count}-{wanted}"
        requested = {"instances": count, "cores": wanted * cores, "ram": wanted * ram}
        raise QuotaExceeded(over_quota_message(
            overs, requested, used, limits))  # type: ignore[arg-type]
    return [UsageReserved(project_id=usage.project_id, instance_id=instance_id,
                          cores=cores, ram=ram) for instance_id in instance_ids[:fitting]]


def release(usage: ProjectUsage, *, instance_id: str) -> list[Event]:
    """An instance no longer counts; nothing to record if it did not."""
    if instance_id not in usage.instances:
        return []
    return [UsageReleased(project_id=usage.project_id, instance_id=instance_id)]


def held(*flavors: FlavorSpec | None) -> Reservation:
    """What an instance holding these flavors counts: the largest of each resource (a
    resize not yet confirmed or reverted holds both, as Nova counts it)."""
    kept = [flavor for flavor in flavors if flavor is not None]
    return Reservation(cores=max(flavor.vcpus for flavor in kept),
                       ram=max(flavor.ram for flavor in kept))


def recount(usage: ProjectUsage, *, instance_id: str, counts: Reservation,
            limits: dict[str, int] | None = None) -> list[Event]:
    """The instance counts ``counts`` from now on; nothing to record when it already does
    or is not counted at all. Given ``limits``, an increase past any of them is refused
    with Nova's message (only the increase, new minus old where positive, must fit)."""
    current = usage.instances.get(instance_id)
    if current is None or current == counts:
        return []
    if limits is not None:
        increase = {"cores": max(counts.cores - current.cores, 0),
                    "ram": max(counts.ram - current.ram, 0)}
        used = usage.in_use()
        overs = sorted(resource for resource, more in increase.items()
                       if more and _below(limits[resource], used[resource] + more))
        if overs:
            raise QuotaExceeded(over_quota_message(overs, increase, used, limits))
    return [UsageChanged(project_id=usage.project_id, instance_id=instance_id,
                         cores=counts.cores, ram=counts.ram)]


def evolve_usage(usage: ProjectUsage | None, project_id: str, event: Event) -> ProjectUsage:
    """Apply one recorded event."""
    usage = usage or ProjectUsage(project_id=project_id)
    match event:
        case UsageReserved():
            taken = Reservation(cores=event.cores, ram=event.ram)
            return ProjectUsage(project_id=project_id,
                                instances={**usage.instances, event.instance_id: taken})
        case UsageReleased():
            rest = {k: v for k, v in usage.instances.items() if k != event.instance_id}
            return ProjectUsage(project_id=project_id, instances=rest)
        case UsageChanged() if event.instance_id in usage.instances:
            counted = Reservation(cores=event.cores, ram=event.ram)
            return ProjectUsage(project_id=project_id,
                                instances={**usage.instances, event.instance_id: counted})
    return usage
