"""Given a server's state, when its console is asked for, then its host or Nova's 409."""

import pytest

from cloud.domain import states
from cloud.domain.console import console_host
from cloud.domain.errors import InstanceNotReady, InvalidTransition

ID = "6f1e0c0e-2f7c-4a57-9d7b-3b0e6f1a2b3c"


@pytest.mark.parametrize("vm_state, task_state", [
    (states.ACTIVE, None), (states.STOPPED, None), (states.PAUSED, None),
    (states.SUSPENDED, None), (states.ERROR, None), (states.RESIZED, None),
    (states.ACTIVE, states.REBOOTING), (states.BUILDING, states.SPAWNING),
])
def test_any_server_with_a_host_is_asked_on_that_host(vm_state, task_state):
    assert console_host(ID, host="host1", vm_state=vm_state, task_state=task_state) == "host1"


@pytest.mark.parametrize("vm_state, task_state", [
    (states.BUILDING, states.SCHEDULING), (states.ERROR, None),
])
def test_a_server_without_a_host_is_not_ready(vm_state, task_state):
    with pytest.raises(InstanceNotReady) as refused:
        console_host(ID, host=None, vm_state=vm_state, task_state=task_state)
    assert str(refused.value) == f"Instance {ID} is not ready"
    assert isinstance(refused.value, InvalidTransition)  # a 409 at the API


def test_a_server_being_deleted_is_refused_in_novas_words():
    with pytest.raises(InvalidTransition) as refused:
        console_host(ID, host="host1", vm_state=states.ACTIVE, task_state=states.DELETING)
    assert str(refused.value) == (
        f"Cannot 'get_console_output' instance {ID} while it is in task_state deleting")
