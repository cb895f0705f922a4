"""Nova's instance state vocabulary and the API status derived from it."""

from typing import Final

# vm_state: the stable state of an instance.
ACTIVE: Final = "active"
BUILDING: Final = "building"
STOPPED: Final = "stopped"
PAUSED: Final = "paused"
SUSPENDED: Final = "suspended"
RESIZED: Final = "resized"
ERROR: Final = "error"
DELETED: Final = "deleted"

# task_state: what is happening to it right now (None when idle).
SCHEDULING: Final = "scheduling"
SPAWNING: Final = "spawning"
DELETING: Final = "deleting"
POWERING_OFF: Final = "powering-off"
POWERING_ON: Final = "powering-on"
REBOOTING: Final = "rebooting"
REBOOTING_HARD: Final = "rebooting_hard"
PAUSING: Final = "pausing"
UNPAUSING: Final = "unpausing"
SUSPENDING: Final = "suspending"
RESUMING: Final = "resuming"
REBUILDING: Final = "rebuilding"
RESIZE_PREP: Final = "resize_prep"
RESIZE_REVERTING: Final = "resize_reverting"

# power_state: what the hypervisor says, as Nova numbers it.
NOSTATE: Final = 0
RUNNING: Final = 1
POWER_PAUSED: Final = 3
SHUTDOWN: Final = 4
CRASHED: Final = 6
POWER_SUSPENDED: Final = 7

_STATUS_BY_VM_STATE: Final = {
    ACTIVE: "ACTIVE",
    BUILDING: "BUILD",
    STOPPED: "SHUTOFF",
    PAUSED: "PAUSED",
    SUSPENDED: "SUSPENDED",
    RESIZED: "VERIFY_RESIZE",
    ERROR: "ERROR",
    DELETED: "DELETED",
}


# Task states that change what the API shows (Nova's state map); any other task keeps
# the vm_state's status, so a delete in progress shows the status the server had.
_STATUS_BY_TASK: Final = {
    REBOOTING: "REBOOT",
    REBOOTING_HARD: "HARD_REBOOT",
    REBUILDING: "REBUILD",
    RESIZE_PREP: "RESIZE",
    RESIZE_REVERTING: "REVERT_RESIZE",
}
_TASKS_SHOWN_IN: Final = {
    ACTIVE: {REBOOTING, REBOOTING_HARD, REBUILDING, RESIZE_PREP},
    STOPPED: {REBOOTING_HARD, REBUILDING, RESIZE_PREP},
    PAUSED: {REBOOTING_HARD},
    SUSPENDED: {REBOOTING_HARD},
    ERROR: {REBOOTING_HARD, REBUILDING},
    RESIZED: {RESIZE_REVERTING},
}


def api_status(vm_state: str, task_state: str | None) -> str:
    """The status string Nova's API shows for a vm_state/task_state pair."""
    if task_state in _TASKS_SHOWN_IN.get(vm_state, ()):
        return _STATUS_BY_TASK[task_state]
    return _STATUS_BY_VM_STATE.get(vm_state, "UNKNOWN")


# vm_state for each API status, for the ``status`` filter of server lists.
VM_STATES_BY_STATUS: Final = {status: vm for vm, status in _STATUS_BY_VM_STATE.items()}
