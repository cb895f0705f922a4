"""Events of the fleet: hosts and their claims, compute services, host aggregates and
server groups."""

from typing import ClassVar


from cloud.domain.events.base import Event


# --- host -----------------------------------------------------------------------------


class HostEvent(Event, frozen=True, kw_only=True):
    aggregate: ClassVar[str] = "host"


class HostRegistered(HostEvent, frozen=True, kw_only=True):
    """A compute agent's capacity, and the allocation ratios its operator set for this
    host (None: the scheduler's default applies)."""

    host: str
    hypervisor_type: str
    hypervisor_hostname: str
    vcpus: int
    memory_mb: int
    disk_gb: int
    cpu_allocation_ratio: float | None = None
    ram_allocation_ratio: float | None = None
    disk_allocation_ratio: float | None = None


class ResourcesClaimed(HostEvent, frozen=True, kw_only=True):
    """``kind`` is empty for the instance's own claim, ``resize`` for the flavor a resize
    in progress needs beside it."""

    host: str
    instance_id: str
    vcpus: int
    memory_mb: int
    disk_gb: int
    kind: str = ""


class ResourcesReleased(HostEvent, frozen=True, kw_only=True):
    host: str
    instance_id: str
    kind: str = ""


# --- services (os-services: an operator's switches on a host's service) --------------


class ServiceEvent(Event, frozen=True, kw_only=True):
    aggregate: ClassVar[str] = "service"
    host: str
    binary: str


class ServiceDisabled(ServiceEvent, frozen=True, kw_only=True):
    reason: str | None = None


class ServiceEnabled(ServiceEvent, frozen=True, kw_only=True):
    pass


class ServiceForcedDown(ServiceEvent, frozen=True, kw_only=True):
    """``forced_down`` true: down whatever its heartbeat says; false: lifted."""

    forced_down: bool


class ServiceDeleted(ServiceEvent, frozen=True, kw_only=True):
    pass


# --- host aggregates and server groups -----------------------------------------------


class AggregateEvent(Event, frozen=True, kw_only=True):
    """A host aggregate; its availability zone is its ``availability_zone`` metadata."""

    aggregate: ClassVar[str] = "host_aggregate"


class AggregateCreated(AggregateEvent, frozen=True, kw_only=True):
    name: str
    availability_zone: str | None = None


class AggregateRenamed(AggregateEvent, frozen=True, kw_only=True):
    name: str


class AggregateMetadataSet(AggregateEvent, frozen=True, kw_only=True):
    """These keys now have these values, the ``removed`` keys are gone."""

    metadata: dict[str, str] = {}
    removed: list[str] = []


class AggregateHostAdded(AggregateEvent, frozen=True, kw_only=True):
    host: str


class AggregateHostRemoved(AggregateEvent, frozen=True, kw_only=True):
    host: str


class AggregateDeleted(AggregateEvent, frozen=True, kw_only=True):
    pass


class ServerGroupEvent(Event, frozen=True, kw_only=True):
    aggregate: ClassVar[str] = "server_group"


class ServerGroupCreated(ServerGroupEvent, frozen=True, kw_only=True):
    name: str
    project_id: str
    user_id: str
    policy: str
    rules: dict[str, int] = {}


class ServerGroupMemberAdded(ServerGroupEvent, frozen=True, kw_only=True):
    """A server asked to be in the group (saved with its InstanceRequested)."""

    instance_id: str


class ServerGroupMemberPlaced(ServerGroupEvent, frozen=True, kw_only=True):
    """The scheduler put a member on ``host`` (saved with its InstanceScheduled, so the
    group's version serialises the placements of its members)."""

    instance_id: str
    host: str


class ServerGroupDeleted(ServerGroupEvent, frozen=True, kw_only=True):
    pass


# --- aggregate image cache (2.81) ---


class AggregateImagesCacheRequested(AggregateEvent, frozen=True, kw_only=True):
    """An admin asked the aggregate's hosts to fetch these images into their caches;
    routed to each of those hosts (as they were when asked)."""

    routed: ClassVar[bool] = True
    image_ids: list[str]
    hosts: list[str] = []  # absent from requests recorded before hosts were routed to
