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


def api_status(vm_state: str, task_state: str | None) -> str:
    """The status string Nova's API shows for a vm_state/task_state pair.

    A delete in progress keeps the status the server had before it.
    """
    return _STATUS_BY_VM_STATE.get(vm_state, "UNKNOWN")
