"""What placement decides over: a request, the hosts as the scheduler sees them, config."""

import functools

import msgspec

from cloud.domain.host import Claim, Ratios, with_aggregate_ratios


class AggregateView(msgspec.Struct, frozen=True, kw_only=True):
    """A host aggregate the host belongs to: its metadata and availability zone."""

    name: str
    metadata: dict[str, str] = {}
    availability_zone: str | None = None


class GroupView(msgspec.Struct, frozen=True, kw_only=True):
    """A server group: its policy and how many of its members each host already runs."""

    policy: str  # affinity | anti-affinity | soft-affinity | soft-anti-affinity
    members_per_host: dict[str, int] = {}
    max_server_per_host: int = 1


class HostView(msgspec.Struct, frozen=True, kw_only=True, dict=True):
    """One host as the scheduler knows it (from the host projection).

    Its ratios and headroom are computed once per view (``dict=True`` gives the cached
    properties somewhere to live): every filter and weigher asks for them, for each of
    up to thousands of hosts per decision."""

    name: str
    vcpus: int
    memory_mb: int
    disk_gb: int
    used: Claim
    up: bool = True
    enabled: bool = True
    ratios: Ratios = Ratios()
    aggregates: tuple[AggregateView, ...] = ()
    default_availability_zone: str = "nova"
    instances: frozenset[str] = frozenset()
    hypervisor_type: str = "QEMU"
    cpu_arch: str = "x86_64"
    failed_builds: int = 0

    @property
    def availability_zone(self) -> str:
        zones = [a.availability_zone for a in self.aggregates if a.availability_zone]
        return zones[0] if zones else self.default_availability_zone

    @functools.cached_property
    def effective_ratios(self) -> Ratios:
        """The ratios this host is scheduled and claimed by: its aggregates' metadata
        over its own ratios over the scheduler's default (both already in ``ratios``)."""
        return with_aggregate_ratios(self.ratios, (a.metadata for a in self.aggregates))

    @functools.cached_property
    def free(self) -> Claim:
        """Headroom left under the allocation ratios."""
        ratios = self.effective_ratios
        return Claim(vcpus=int(self.vcpus * ratios.cpu) - self.used.vcpus,
                     memory_mb=int(self.memory_mb * ratios.ram) - self.used.memory_mb,
                     disk_gb=int(self.disk_gb * ratios.disk) - self.used.disk_gb)


class RequestSpec(msgspec.Struct, frozen=True, kw_only=True):
    """One instance to place, with everything the filters may look at."""

    instance_id: str
    want: Claim
    project_id: str = ""
    availability_zone: str | None = None
    flavor_extra_specs: dict[str, str] = {}
    image_id: str = ""
    image_properties: dict[str, str] = {}
    same_host: frozenset[str] = frozenset()
    different_host: frozenset[str] = frozenset()
    group: GroupView | None = None
    ignore_hosts: frozenset[str] = frozenset()
    # 2.74: an admin named the host; no other is considered (before any filter).
    requested_host: str | None = None


DEFAULT_FILTERS = (
    "Retry", "Compute", "AvailabilityZone", "RAM", "VCPU", "Disk",
    "AggregateInstanceExtraSpecs", "AggregateMultiTenancyIsolation", "ImageProperties",
    "ServerGroupAffinity", "ServerGroupAntiAffinity", "SameHost", "DifferentHost",
    "NumInstances", "IsolatedHosts",
)

DEFAULT_MULTIPLIERS = {
    "RAM": 1.0, "CPU": 1.0, "Disk": 1.0, "NumInstances": 0.0,
    "BuildFailure": 1_000_000.0, "SoftAffinity": 1.0, "SoftAntiAffinity": 1.0,
}


class SchedulerConfig(msgspec.Struct, frozen=True, kw_only=True):
    """Which filters run, in which order, and how much each weigher counts.

    Positive RAM/CPU/Disk multipliers spread instances (Nova's default); negative ones pack.
    """

    filters: tuple[str, ...] = DEFAULT_FILTERS
    multipliers: dict[str, float] = msgspec.field(default_factory=lambda: dict(DEFAULT_MULTIPLIERS))
    max_instances_per_host: int = 50
    isolated_hosts: frozenset[str] = frozenset()
    isolated_images: frozenset[str] = frozenset()
    restrict_isolated_hosts_to_isolated_images: bool = True

    @classmethod
    def packing(cls) -> "SchedulerConfig":
        """Fill one host before the next."""
        return cls(multipliers={**DEFAULT_MULTIPLIERS, "RAM": -1.0, "CPU": -1.0,
                                "Disk": -1.0})
