"""Server actions as data: which states allow each action, the task it starts, the event
that asks the host, and where the server ends up when the host is done (Nova's tables)."""

from typing import Final

import msgspec

from cloud.domain import events as ev
from cloud.domain import states as s


class Action(msgspec.Struct, frozen=True, kw_only=True):
    """One action a user can ask of a server that its host carries out."""

    name: str  # Nova's name, as in its 409 messages and instance actions
    allowed: frozenset[str]  # vm_states it may start from
    task: str  # task_state while the host works
    requested: type[ev.InstanceActionRequested]
    done: type[ev.InstanceActionDone]
    # Task states it may also start during (a hard reboot interrupts a soft one).
    interrupts: frozenset[str] = frozenset()


def _action(name: str, allowed: set[str], task: str, requested: type, done: type,
            interrupts: set[str] | None = None) -> Action:
    return Action(name=name, allowed=frozenset(allowed), task=task, requested=requested,
                  done=done, interrupts=frozenset(interrupts or ()))


ACTIONS: Final = {action.name: action for action in (
    _action("stop", {s.ACTIVE, s.ERROR}, s.POWERING_OFF,
            ev.InstanceStopRequested, ev.InstanceStopped),
    _action("start", {s.STOPPED}, s.POWERING_ON,
            ev.InstanceStartRequested, ev.InstanceStarted),
    _action("reboot", {s.ACTIVE}, s.REBOOTING,
            ev.InstanceRebootRequested, ev.InstanceRebooted),
    _action("reboot_hard", {s.ACTIVE, s.STOPPED, s.PAUSED, s.SUSPENDED, s.ERROR},
            s.REBOOTING_HARD, ev.InstanceRebootRequested, ev.InstanceRebooted,
            interrupts={s.REBOOTING}),
    _action("pause", {s.ACTIVE}, s.PAUSING, ev.InstancePauseRequested, ev.InstancePaused),
    _action("unpause", {s.PAUSED}, s.UNPAUSING,
            ev.InstanceUnpauseRequested, ev.InstanceUnpaused),
    _action("suspend", {s.ACTIVE}, s.SUSPENDING,
            ev.InstanceSuspendRequested, ev.InstanceSuspended),
    _action("resume", {s.SUSPENDED}, s.RESUMING,
            ev.InstanceResumeRequested, ev.InstanceResumed),
    _action("rebuild", {s.ACTIVE, s.STOPPED, s.ERROR}, s.REBUILDING,
            ev.InstanceRebuildRequested, ev.InstanceRebuilt),
    _action("resize", {s.ACTIVE, s.STOPPED}, s.RESIZE_PREP,
            ev.InstanceResizeRequested, ev.InstanceResized),
    _action("revertResize", {s.RESIZED}, s.RESIZE_REVERTING,
            ev.InstanceResizeRevertRequested, ev.InstanceResizeReverted),
)}

# Where a finished action leaves the server; None: running or stopped as its guest is
# (vm_state_after). A stopped server is rebuilt, or reverted from a resize, with its
# guest left off, and stays stopped (Nova's orig_vm_state / old_vm_state); a running
# guest is ACTIVE, as in logs from before guests were left off.
VM_STATE_AFTER: Final[dict[type[ev.InstanceActionDone], str | None]] = {
    ev.InstanceStopped: s.STOPPED,
    ev.InstanceStarted: s.ACTIVE,
    ev.InstanceRebooted: s.ACTIVE,
    ev.InstancePaused: s.PAUSED,
    ev.InstanceUnpaused: s.ACTIVE,
    ev.InstanceSuspended: s.SUSPENDED,
    ev.InstanceResumed: s.ACTIVE,
    ev.InstanceRebuilt: None,
    ev.InstanceResized: s.RESIZED,
    ev.InstanceResizeReverted: None,
}

# The task each done event finishes (a hard reboot is finished by InstanceRebooted too).
TASKS_FINISHED_BY: Final[dict[type[ev.InstanceActionDone], frozenset[str]]] = {
    done: frozenset(a.task for a in ACTIONS.values() if a.done is done)
    for done in VM_STATE_AFTER
}

# Where a failed action leaves the server: back where it was, except that a half-done
# rebuild or resize leaves a guest nobody can vouch for.
FAILED_TO_ERROR: Final = frozenset({"rebuild", "resize", "revertResize"})

# States an admin may force with os-resetState.
RESETTABLE: Final = {"active": s.ACTIVE, "error": s.ERROR}


def task_of(event: ev.InstanceActionRequested) -> str:
    """The task_state a request event starts."""
    if isinstance(event, ev.InstanceRebootRequested):
        return s.REBOOTING_HARD if event.hard else s.REBOOTING
    return next(a.task for a in ACTIONS.values() if a.requested is type(event))


def action_of_task(task_state: str | None) -> Action | None:
    return next((a for a in ACTIONS.values() if a.task == task_state), None)


def running_or_stopped(power_state: int) -> str:
    """The vm_state of a server whose guest is in ``power_state`` (after a confirmed
    resize, a rebuild or a revert: see VM_STATE_AFTER)."""
    return s.ACTIVE if power_state == s.RUNNING else s.STOPPED


def vm_state_after(done: ev.InstanceActionDone) -> str:
    """Where the finished action ``done`` leaves the server."""
    after = VM_STATE_AFTER[type(done)]
    return running_or_stopped(done.power_state) if after is None else after


def powers_on(vm_state: str | None) -> bool:
    """Whether a rebuild or resize of a server in ``vm_state`` (before the resize, for a
    revert) starts its guest: Nova leaves a stopped server's guest off."""
    return vm_state != s.STOPPED
