"""Every event the cloud records, as frozen msgspec Structs.

Each class name is its stable wire name: it is stored in the log as the event's topic
and appears at the end of its NATS subject. Renaming a class is a wire change; keep the
old name with ``rename=`` tricks rather than orphaning stored events.
"""

from typing import Any, ClassVar

import msgspec


class Event(msgspec.Struct, frozen=True, kw_only=True):
    """Base of all events. ``routed`` events are also copied to their host's subject."""

    aggregate: ClassVar[str] = ""
    routed: ClassVar[bool] = False


class FlavorSpec(msgspec.Struct, frozen=True, kw_only=True):
    """The flavor as embedded in an instance (Nova keeps a copy per instance too)."""

    flavorid: str
    name: str
    vcpus: int
    ram: int
    disk: int
    ephemeral: int = 0
    swap: int = 0
    # The flavor's extra specs when the copy was taken (shown in servers from 2.47).
    extra_specs: dict[str, str] = {}


class Fault(msgspec.Struct, frozen=True, kw_only=True):
    code: int
    message: str
    details: str = ""


# --- instance -------------------------------------------------------------------------


class InstanceEvent(Event, frozen=True, kw_only=True):
    aggregate: ClassVar[str] = "instance"


class InstanceRequested(InstanceEvent, frozen=True, kw_only=True):
    name: str
    project_id: str
    user_id: str
    flavor: FlavorSpec
    image_ref: str
    metadata: dict[str, str] = {}
    availability_zone: str | None = None
    key_name: str | None = None
    # Shown to admins from microversion 2.3 (description to everyone from 2.19).
    hostname: str = ""
    reservation_id: str = ""
    user_data: str | None = None
    description: str | None = None
    # OS-SCH-HNT:scheduler_hints as given (group, same_host, different_host are used;
    # the others are kept for the record and shown from 2.100).
    scheduler_hints: dict[str, Any] = {}
    # Server tags (given at create from 2.52), access addresses, and the position of
    # this server among those one multi-create request made (launch_index, from 0).
    tags: list[str] = []
    access_ipv4: str | None = None
    access_ipv6: str | None = None
    launch_index: int = 0
    # 2.63 certificate ids to verify the image with (kept and shown; nothing verifies
    # signatures yet) and the 2.74 host an admin asked for (the scheduler keeps to it).
    trusted_image_certificates: list[str] | None = None
    requested_host: str | None = None


class InstanceScheduled(InstanceEvent, frozen=True, kw_only=True):
    routed: ClassVar[bool] = True
    host: str
    node: str
    name: str
    flavor: FlavorSpec
    image_ref: str


class InstanceSpawned(InstanceEvent, frozen=True, kw_only=True):
    host: str
    power_state: int


class InstanceFailed(InstanceEvent, frozen=True, kw_only=True):
    fault: Fault
    host: str | None = None


class InstanceRescheduled(InstanceEvent, frozen=True, kw_only=True):
    """A spawn failed on ``failed_host``; the instance goes back to the scheduler."""

    failed_host: str
    attempt: int
    reason: str


class InstanceDeleteRequested(InstanceEvent, frozen=True, kw_only=True):
    routed: ClassVar[bool] = True
    host: str | None = None


class InstanceDeleted(InstanceEvent, frozen=True, kw_only=True):
    host: str | None = None


# --- instance actions -----------------------------------------------------------------
# Each action a host carries out is a ``…Requested`` event routed to the instance's host
# and a past-tense event once the host reports it done (or ``InstanceActionFailed``).


class InstanceActionRequested(InstanceEvent, frozen=True, kw_only=True):
    """Base of the events that ask the instance's host to act."""

    routed: ClassVar[bool] = True
    host: str


class InstanceStopRequested(InstanceActionRequested, frozen=True, kw_only=True):
    pass


class InstanceStartRequested(InstanceActionRequested, frozen=True, kw_only=True):
    pass


class InstanceRebootRequested(InstanceActionRequested, frozen=True, kw_only=True):
    hard: bool = False


class InstancePauseRequested(InstanceActionRequested, frozen=True, kw_only=True):
    pass


class InstanceUnpauseRequested(InstanceActionRequested, frozen=True, kw_only=True):
    pass


class InstanceSuspendRequested(InstanceActionRequested, frozen=True, kw_only=True):
    pass


class InstanceResumeRequested(InstanceActionRequested, frozen=True, kw_only=True):
    pass


class InstanceRebuildRequested(InstanceActionRequested, frozen=True, kw_only=True):
    """Recreate the guest's disk from ``image_ref`` (its name and flavor for the XML)."""

    image_ref: str
    name: str
    flavor: FlavorSpec
    # What the rebuild request also changes (UNSET: left as is, so older logs replay):
    # description 2.19, key_name 2.54, user_data 2.57, trusted_image_certificates 2.63,
    # hostname 2.90; metadata replaces the server's when given.
    description: str | None | msgspec.UnsetType = msgspec.UNSET
    key_name: str | None | msgspec.UnsetType = msgspec.UNSET
    user_data: str | None | msgspec.UnsetType = msgspec.UNSET
    trusted_image_certificates: list[str] | None | msgspec.UnsetType = msgspec.UNSET
    hostname: str | msgspec.UnsetType = msgspec.UNSET
    metadata: dict[str, str] | msgspec.UnsetType = msgspec.UNSET


class InstanceResizeRequested(InstanceActionRequested, frozen=True, kw_only=True):
    """Give the guest ``flavor`` (the new one is claimed on the host already)."""

    name: str
    image_ref: str
    old_flavor: FlavorSpec
    flavor: FlavorSpec


class InstanceResizeRevertRequested(InstanceActionRequested, frozen=True, kw_only=True):
    """Give the guest back ``flavor``, the one it had before the resize."""

    name: str
    image_ref: str
    flavor: FlavorSpec


class InstanceActionDone(InstanceEvent, frozen=True, kw_only=True):
    """Base of the events recording that the host finished an action."""

    host: str
    power_state: int


class InstanceStopped(InstanceActionDone, frozen=True, kw_only=True):
    pass


class InstanceStarted(InstanceActionDone, frozen=True, kw_only=True):
    pass


class InstanceRebooted(InstanceActionDone, frozen=True, kw_only=True):
    pass


class InstancePaused(InstanceActionDone, frozen=True, kw_only=True):
    pass


class InstanceUnpaused(InstanceActionDone, frozen=True, kw_only=True):
    pass


class InstanceSuspended(InstanceActionDone, frozen=True, kw_only=True):
    pass


class InstanceResumed(InstanceActionDone, frozen=True, kw_only=True):
    pass


class InstanceRebuilt(InstanceActionDone, frozen=True, kw_only=True):
    image_ref: str


class InstanceResized(InstanceActionDone, frozen=True, kw_only=True):
    """The guest runs with the new flavor; the user must confirm or revert."""


class InstanceResizeReverted(InstanceActionDone, frozen=True, kw_only=True):
    pass


class InstanceResizeConfirmed(InstanceEvent, frozen=True, kw_only=True):
    """The new flavor stays; the old one's resources are given back."""

    host: str


class InstanceActionFailed(InstanceEvent, frozen=True, kw_only=True):
    """The host could not carry out ``action``; the server goes to ``vm_state``."""

    host: str
    action: str
    vm_state: str
    fault: Fault


class InstanceLocked(InstanceEvent, frozen=True, kw_only=True):
    """Only an admin (or the owner, if the owner locked it) may act on it now."""

    reason: str | None = None
    by: str = "owner"


class InstanceUnlocked(InstanceEvent, frozen=True, kw_only=True):
    pass


class InstanceStateReset(InstanceEvent, frozen=True, kw_only=True):
    """An admin forced the vm_state (os-resetState); the task, if any, is dropped."""

    vm_state: str


class InstancePowerObserved(InstanceEvent, frozen=True, kw_only=True):
    """The host saw the guest change on its own (shut itself down, crashed)."""

    host: str
    power_state: int
    vm_state: str


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


# --- flavor and image -----------------------------------------------------------------


class FlavorEvent(Event, frozen=True, kw_only=True):
    aggregate: ClassVar[str] = "flavor"


class FlavorCreated(FlavorEvent, frozen=True, kw_only=True):
    """A new flavor (again, after a delete) with no extra specs and no project access."""

    flavor: FlavorSpec
    is_public: bool = True
    description: str | None = None
    rxtx_factor: float = 1.0


class FlavorDeleted(FlavorEvent, frozen=True, kw_only=True):
    """Gone from the API; servers keep their copy of it."""

    flavorid: str


class FlavorDescriptionUpdated(FlavorEvent, frozen=True, kw_only=True):
    flavorid: str
    description: str | None


class FlavorExtraSpecsSet(FlavorEvent, frozen=True, kw_only=True):
    """These keys now have these values; other keys stay as they were."""

    flavorid: str
    extra_specs: dict[str, str]


class FlavorExtraSpecDeleted(FlavorEvent, frozen=True, kw_only=True):
    flavorid: str
    key: str


class FlavorAccessAdded(FlavorEvent, frozen=True, kw_only=True):
    """A project may now see and use a private flavor."""

    flavorid: str
    project_id: str


class FlavorAccessRemoved(FlavorEvent, frozen=True, kw_only=True):
    flavorid: str
    project_id: str


class ImageRegistered(Event, frozen=True, kw_only=True):
    """An image known without data, recorded at bootstrap: public, active, size 0."""

    aggregate: ClassVar[str] = "image"
    image_id: str
    name: str
    disk_format: str = "qcow2"
    container_format: str = "bare"
    min_disk: int = 0
    min_ram: int = 0


# --- identity: projects, users, roles -------------------------------------------------
# Secrets never enter the log: a password change is recorded as the fact that it changed.


class ProjectEvent(Event, frozen=True, kw_only=True):
    aggregate: ClassVar[str] = "project"


class ProjectCreated(ProjectEvent, frozen=True, kw_only=True):
    project_id: str
    name: str
    domain_id: str
    description: str = ""
    enabled: bool = True


class ProjectUpdated(ProjectEvent, frozen=True, kw_only=True):
    """The project's name and description after the change."""

    name: str
    description: str = ""


class ProjectEnabled(ProjectEvent, frozen=True, kw_only=True):
    pass


class ProjectDisabled(ProjectEvent, frozen=True, kw_only=True):
    pass


class ProjectDeleted(ProjectEvent, frozen=True, kw_only=True):
    pass


class UserEvent(Event, frozen=True, kw_only=True):
    aggregate: ClassVar[str] = "user"


class UserCreated(UserEvent, frozen=True, kw_only=True):
    user_id: str
    name: str
    domain_id: str
    default_project_id: str | None = None
    email: str | None = None
    description: str | None = None
    enabled: bool = True


class UserUpdated(UserEvent, frozen=True, kw_only=True):
    """The user's attributes after the change (never the password)."""

    name: str
    default_project_id: str | None = None
    email: str | None = None
    description: str | None = None


class UserEnabled(UserEvent, frozen=True, kw_only=True):
    pass


class UserDisabled(UserEvent, frozen=True, kw_only=True):
    pass


class UserPasswordChanged(UserEvent, frozen=True, kw_only=True):
    pass


class RoleGranted(UserEvent, frozen=True, kw_only=True):
    project_id: str
    role_id: str


class RoleRevoked(UserEvent, frozen=True, kw_only=True):
    project_id: str
    role_id: str


class UserDeleted(UserEvent, frozen=True, kw_only=True):
    pass


class RoleCreated(Event, frozen=True, kw_only=True):
    aggregate: ClassVar[str] = "role"
    role_id: str
    name: str


class NameEvent(Event, frozen=True, kw_only=True):
    """The index that keeps user and project names unique within a domain."""

    aggregate: ClassVar[str] = "name"


class NameClaimed(NameEvent, frozen=True, kw_only=True):
    kind: str
    domain_id: str
    name: str
    owner_id: str


class NameReleased(NameEvent, frozen=True, kw_only=True):
    owner_id: str


# --- images ---------------------------------------------------------------------------
# (ImageRegistered above records an image known without uploaded data: the bootstrap
# image. Everything else an image lives through is below.)


class ImageEvent(Event, frozen=True, kw_only=True):
    aggregate: ClassVar[str] = "image"


class ImageCreated(ImageEvent, frozen=True, kw_only=True):
    """A record without data (status ``queued``)."""

    name: str | None
    owner: str | None
    visibility: str
    disk_format: str | None = None
    container_format: str | None = None
    min_disk: int = 0
    min_ram: int = 0
    protected: bool = False
    os_hidden: bool = False
    tags: list[str] = []
    properties: dict[str, str] = {}


class ImageDataUploaded(ImageEvent, frozen=True, kw_only=True):
    """The data is stored and verified: the image is ``active``."""

    size: int
    checksum: str
    os_hash_algo: str
    os_hash_value: str


class ImageUpdated(ImageEvent, frozen=True, kw_only=True):
    """Only the attributes that changed are present."""

    name: str | None | msgspec.UnsetType = msgspec.UNSET
    owner: str | None | msgspec.UnsetType = msgspec.UNSET
    visibility: str | msgspec.UnsetType = msgspec.UNSET
    disk_format: str | None | msgspec.UnsetType = msgspec.UNSET
    container_format: str | None | msgspec.UnsetType = msgspec.UNSET
    min_disk: int | msgspec.UnsetType = msgspec.UNSET
    min_ram: int | msgspec.UnsetType = msgspec.UNSET
    protected: bool | msgspec.UnsetType = msgspec.UNSET
    os_hidden: bool | msgspec.UnsetType = msgspec.UNSET
    tags: list[str] | msgspec.UnsetType = msgspec.UNSET
    properties: dict[str, str] = {}
    removed_properties: list[str] = []


class ImageDeleted(ImageEvent, frozen=True, kw_only=True):
    """The record is gone (and its data with it)."""



# --- keypairs and quotas --------------------------------------------------------------


class KeypairEvent(Event, frozen=True, kw_only=True):
    aggregate: ClassVar[str] = "keypair"


class KeypairCreated(KeypairEvent, frozen=True, kw_only=True):
    """A user's key pair, imported or generated (the private key is never recorded)."""

    user_id: str
    name: str
    key_type: str
    public_key: str
    fingerprint: str


class KeypairDeleted(KeypairEvent, frozen=True, kw_only=True):
    user_id: str
    name: str


class QuotaSetEvent(Event, frozen=True, kw_only=True):
    aggregate: ClassVar[str] = "quota_set"


class QuotaSetUpdated(QuotaSetEvent, frozen=True, kw_only=True):
    """An admin set some of a project's limits (-1 is unlimited); the rest stay as were."""

    project_id: str
    limits: dict[str, int]


class QuotaSetReset(QuotaSetEvent, frozen=True, kw_only=True):
    """Every limit of the project is back to the default."""

    project_id: str


class UsageEvent(Event, frozen=True, kw_only=True):
    aggregate: ClassVar[str] = "project_usage"


class UsageReserved(UsageEvent, frozen=True, kw_only=True):
    """An instance counts against its project's quota from its request until deleted."""

    project_id: str
    instance_id: str
    cores: int
    ram: int


class UsageReleased(UsageEvent, frozen=True, kw_only=True):
    project_id: str
    instance_id: str


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


# --- server attributes: update, metadata, tags -----------------------------------------


class InstanceUpdated(InstanceEvent, frozen=True, kw_only=True):
    """A user edited the server (PUT /servers/{id}): only what changed is present."""

    name: str | msgspec.UnsetType = msgspec.UNSET
    description: str | None | msgspec.UnsetType = msgspec.UNSET
    hostname: str | msgspec.UnsetType = msgspec.UNSET
    access_ipv4: str | msgspec.UnsetType = msgspec.UNSET
    access_ipv6: str | msgspec.UnsetType = msgspec.UNSET


class InstanceMetadataSet(InstanceEvent, frozen=True, kw_only=True):
    """The server's whole metadata after the change (a merge, a replace or one item)."""

    metadata: dict[str, str]


class InstanceMetadataDeleted(InstanceEvent, frozen=True, kw_only=True):
    key: str


class InstanceTagsSet(InstanceEvent, frozen=True, kw_only=True):
    """The server's tags replaced by these (an empty list removes them all)."""

    tags: list[str]


class InstanceTagAdded(InstanceEvent, frozen=True, kw_only=True):
    tag: str


class InstanceTagDeleted(InstanceEvent, frozen=True, kw_only=True):
    tag: str


# --- aggregate image cache (2.81) ---


class AggregateImagesCacheRequested(AggregateEvent, frozen=True, kw_only=True):
    """An admin asked the aggregate's hosts to fetch these images into their caches."""

    image_ids: list[str]


def _concrete(cls: type[Event]) -> list[type[Event]]:
    found = []
    for sub in cls.__subclasses__():
        found += _concrete(sub)
        if sub.aggregate and not sub.__subclasses__():
            found.append(sub)
    return found


# Every event class defined above, by its wire name (the class name).
EVENT_TYPES: dict[str, type[Event]] = {cls.__name__: cls for cls in _concrete(Event)}


def event_name(event: Event) -> str:
    """The stable wire name of an event."""
    return type(event).__name__
