"""Events of the Instance aggregate: its life, the actions on it, users' edits."""

from typing import Any, ClassVar

import msgspec

from cloud.domain.events.base import Event, FlavorSpec, Fault


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
    # Start the rebuilt guest: false when the server was stopped, which stays stopped
    # (Nova); older logs, without it, started every rebuilt guest.
    power_on: bool = True


class InstanceResizeRequested(InstanceActionRequested, frozen=True, kw_only=True):
    """Give the guest ``flavor`` (the new one is claimed on the host already)."""

    name: str
    image_ref: str
    old_flavor: FlavorSpec
    flavor: FlavorSpec
    # Start the resized guest: false when the server was stopped (Nova keeps it off until
    # it is started); older logs, without it, started every resized guest.
    power_on: bool = True


class InstanceResizeRevertRequested(InstanceActionRequested, frozen=True, kw_only=True):
    """Give the guest back ``flavor``, the one it had before the resize."""

    name: str
    image_ref: str
    flavor: FlavorSpec
    # Start the guest again: false when the server was stopped before the resize (Nova's
    # old_vm_state); older logs, without it, started every reverted guest.
    power_on: bool = True


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
