"""Every event the cloud records, as frozen msgspec Structs, one module per part of the
cloud; everything is importable from here.

Each class name is its stable wire name: it is stored in the log as the event's topic
and appears at the end of its NATS subject. Renaming a class is a wire change; keep the
old name with ``rename=`` tricks rather than orphaning stored events.
"""

from cloud.domain.events.base import (  # noqa: F401
    Event, FlavorSpec, Fault,
)
from cloud.domain.events.instance import (  # noqa: F401
    InstanceEvent, InstanceRequested, InstanceScheduled, InstanceSpawned, InstanceFailed,
    InstanceRescheduled, InstanceDeleteRequested, InstanceDeleted, InstanceActionRequested,
    InstanceStopRequested, InstanceStartRequested, InstanceRebootRequested,
    InstancePauseRequested, InstanceUnpauseRequested, InstanceSuspendRequested,
    InstanceResumeRequested, InstanceRebuildRequested, InstanceResizeRequested,
    InstanceResizeRevertRequested, InstanceActionDone, InstanceStopped, InstanceStarted,
    InstanceRebooted, InstancePaused, InstanceUnpaused, InstanceSuspended, InstanceResumed,
    InstanceRebuilt, InstanceResized, InstanceResizeReverted, InstanceResizeConfirmed,
    InstanceActionFailed, InstanceLocked, InstanceUnlocked, InstanceStateReset,
    InstancePowerObserved, InstanceUpdated, InstanceMetadataSet, InstanceMetadataDeleted,
    InstanceTagsSet, InstanceTagAdded, InstanceTagDeleted,
)
from cloud.domain.events.fleet import (  # noqa: F401
    HostEvent, HostRegistered, ResourcesClaimed, ResourcesReleased, ServiceEvent,
    ServiceDisabled, ServiceEnabled, ServiceForcedDown, ServiceDeleted, AggregateEvent,
    AggregateCreated, AggregateRenamed, AggregateMetadataSet, AggregateHostAdded,
    AggregateHostRemoved, AggregateDeleted, ServerGroupEvent, ServerGroupCreated,
    ServerGroupMemberAdded, ServerGroupMemberPlaced, ServerGroupDeleted,
    AggregateImagesCacheRequested,
)
from cloud.domain.events.catalog import (  # noqa: F401
    FlavorEvent, FlavorCreated, FlavorDeleted, FlavorDescriptionUpdated, FlavorExtraSpecsSet,
    FlavorExtraSpecDeleted, FlavorAccessAdded, FlavorAccessRemoved, ImageRegistered,
    ImageEvent, ImageCreated, ImageDataUploaded, ImageUpdated, ImageDeleted,
)
from cloud.domain.events.accounts import (  # noqa: F401
    ProjectEvent, ProjectCreated, ProjectUpdated, ProjectEnabled, ProjectDisabled,
    ProjectDeleted, UserEvent, UserCreated, UserUpdated, UserEnabled, UserDisabled,
    UserPasswordChanged, RoleGranted, RoleRevoked, UserDeleted, RoleCreated, NameEvent,
    NameClaimed, NameReleased, KeypairEvent, KeypairCreated, KeypairDeleted, QuotaSetEvent,
    QuotaSetUpdated, QuotaSetReset, UsageEvent, UsageReserved, UsageReleased,
    UsageChanged,
)


def _concrete(cls: type[Event]) -> list[type[Event]]:
    found = []
    for sub in cls.__subclasses__():
        found += _concrete(sub)
        if sub.aggregate and not sub.__subclasses__():
            found.append(sub)
    return found


# Every event class imported above, by its wire name (the class name).
EVENT_TYPES: dict[str, type[Event]] = {cls.__name__: cls for cls in _concrete(Event)}


def event_name(event: Event) -> str:
    """The stable wire name of an event."""
    return type(event).__name__
