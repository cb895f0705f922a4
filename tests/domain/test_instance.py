"""Instance decisions, given past events, when a command, then new events."""

import pytest

from cloud.domain import instance, states
from cloud.domain.errors import InvalidTransition
from cloud.domain.events import (
    Fault,
    FlavorSpec,
    InstanceDeleted,
    InstanceDeleteRequested,
    InstanceFailed,
    InstanceScheduled,
    InstanceSpawned,
)

ID = "0b7c8d7e-1111-4a1a-9a1a-000000000001"
TINY = FlavorSpec(flavorid="1", name="m1.tiny", vcpus=1, ram=512, disk=1)


def given(*events):
    state = None
    for event in events:
        state = instance.evolve(state, ID, event)
    return state


def requested():
    return instance.request(ID, name="vm", project_id="p", user_id="u", flavor=TINY,
                            image_ref="img")[0]


def scheduled(host="h1"):
    return InstanceScheduled(host=host, node=host, name="vm", flavor=TINY, image_ref="img")


def test_a_request_starts_building_and_scheduling():
    state = given(requested())
    assert (state.vm_state, state.task_state, state.power_state) == (
        states.BUILDING, states.SCHEDULING, states.NOSTATE)
    assert states.api_status(state.vm_state, state.task_state) == "BUILD"


def test_scheduling_records_the_host_once():
    state = given(requested())
    assert instance.schedule(state, host="h1", node="h1") == [scheduled()]
    assert instance.schedule(given(requested(), scheduled()), host="h2", node="h2") == []


def test_spawned_makes_it_active_and_running():
    state = given(requested(), scheduled())
    events = instance.spawned(state, host="h1", power_state=states.RUNNING)
    assert events == [InstanceSpawned(host="h1", power_state=states.RUNNING)]
    after = given(requested(), scheduled(), *events)
    assert (after.vm_state, after.task_state, after.power_state) == (
        states.ACTIVE, None, states.RUNNING)


def test_a_report_twice_or_from_another_host_records_nothing():
    active = given(requested(), scheduled(), InstanceSpawned(host="h1", power_state=1))
    assert instance.spawned(active, host="h1", power_state=1) == []
    assert instance.spawned(given(requested(), scheduled()), host="h2", power_state=1) == []


def test_a_failure_goes_to_error_with_its_fault_only_while_building():
    fault = Fault(code=500, message="No valid host was found.")
    state = given(requested())
    assert instance.fail(state, fault=fault) == [InstanceFailed(fault=fault, host=None)]
    active = given(requested(), scheduled(), InstanceSpawned(host="h1", power_state=1))
    assert instance.fail(active, fault=fault) == []


def test_deleting_an_unplaced_server_finishes_at_once():
    assert instance.request_delete(given(requested())) == [
        InstanceDeleteRequested(host=None), InstanceDeleted(host=None)]


def test_deleting_a_placed_server_asks_its_host_and_is_idempotent():
    state = given(requested(), scheduled())
    assert instance.request_delete(state) == [InstanceDeleteRequested(host="h1")]
    deleting = given(requested(), scheduled(), InstanceDeleteRequested(host="h1"))
    assert deleting.task_state == states.DELETING
    assert instance.request_delete(deleting) == []
    assert instance.deleted(deleting, host="h1") == [InstanceDeleted(host="h1")]


def test_a_deleted_server_cannot_be_deleted_again():
    gone = given(requested(), InstanceDeleteRequested(), InstanceDeleted())
    with pytest.raises(InvalidTransition, match="Cannot 'delete' instance"):
        instance.request_delete(gone)


def test_evolve_never_fails_even_on_events_out_of_place():
    # Replay must always work: an event without its InstanceRequested is ignored.
    assert given(scheduled()) is None
    assert given(requested(), InstanceDeleted(), scheduled()).host == "h1"
