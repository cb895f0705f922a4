"""Events of who uses the cloud and how much: projects, users, roles, unique names,
keypairs, quotas and usage."""

from typing import ClassVar


from cloud.domain.events.base import Event


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


class UsageChanged(UsageEvent, frozen=True, kw_only=True):
    """A counted instance now counts ``cores`` and ``ram``: while a resize can still be
    reverted, the larger of its old and new flavor's; then the flavor it keeps."""

    project_id: str
    instance_id: str
    cores: int
    ram: int
