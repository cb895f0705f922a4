"""Whether a server's console log can be read, and on which host (Nova's rules).

Only the host knows the log, so a server without one is "not ready"; any vm_state with
a host will do (a stopped guest's log is still on disk). While the guest is being
deleted there is soon nothing left to read.
"""

from cloud.domain import states
from cloud.domain.errors import InstanceNotReady, InvalidTransition

ACTION = "get_console_output"
# task_states in which Nova refuses to read the console (it also refuses "migrating",
# which this cloud has not).
REFUSED_TASKS = frozenset({states.DELETING})


def console_host(instance_id: str, *, host: str | None, vm_state: str,
                 task_state: str | None) -> str:
    """The host to ask for ``instance_id``'s console, or the reason there is none."""
    if not host:
        raise InstanceNotReady(instance_id, vm_state, ACTION)
    if task_state in REFUSED_TASKS:
        raise InvalidTransition(instance_id, task_state, ACTION, attribute="task_state")
    return host

