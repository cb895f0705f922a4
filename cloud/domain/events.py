"""Every event the cloud records, as frozen msgspec Structs.

Each class name is its stable wire name: it is stored in the log as the event's topic
and appears at the end of its NATS subject. Renaming a class is a wire change; keep the
old name with ``rename=`` tricks rather than orphaning stored events.
"""

from typing import ClassVar

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


# --- host -----------------------------------------------------------------------------


class HostEvent(Event, frozen=True, kw_only=True):
    aggregate: ClassVar[str] = "host"


class HostRegistered(HostEvent, frozen=True, kw_only=True):
    host: str
    hypervisor_type: str
    hypervisor_hostname: str
    vcpus: int
    memory_mb: int
    disk_gb: int


class ResourcesClaimed(HostEvent, frozen=True, kw_only=True):
    host: str
    instance_id: str
    vcpus: int
    memory_mb: int
    disk_gb: int


class ResourcesReleased(HostEvent, frozen=True, kw_only=True):
    host: str
    instance_id: str


# --- flavor and image -----------------------------------------------------------------


class FlavorCreated(Event, frozen=True, kw_only=True):
    aggregate: ClassVar[str] = "flavor"
    flavor: FlavorSpec
    is_public: bool = True
    description: str | None = None


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
