"""Server actions, decided and evolved: given events, when a command, then events."""

import pytest

from cloud.domain import actions, envelope, instance, lifecycle, states
from cloud.domain import events as ev
from cloud.domain.errors import InstanceLocked, Invalid, InvalidTransition, NotAllowed
from cloud.domain.flavor import DEFAULT_FLAVORS

TINY, SMALL = DEFAULT_FLAVORS[0], DEFAULT_FLAVORS[1]
ID = "6f1c2d7e-0000-4000-8000-000000000001"


def given(*events):
    state = None
    for event in events:
        state = instance.evolve(state, ID, event)
    return state


def active(*more):
    return given(ev.InstanceRequested(name="vm", project_id="p", user_id="u", flavor=TINY,
                                      image_ref="img"),
                 ev.InstanceScheduled(host="h1", node="h1", name="vm", flavor=TINY,
                                      image_ref="img"),
                 ev.InstanceSpawned(host="h1", power_state=states.RUNNING), *more)


def test_stop_asks_the_host_and_the_host_finishing_makes_it_stopped():
    events = actions.request(active(), "stop", is_admin=False)
    assert events == [ev.InstanceStopRequested(host="h1")]
    stopping = active(*events)
    assert (stopping.vm_state, stopping.task_state) == (states.ACTIVE, states.POWERING_OFF)
    done = ev.InstanceStopped(host="h1", power_state=states.SHUTDOWN)
    assert actions.finish(stopping, done) == [done]
    stopped = active(*events, done)
    assert (stopped.vm_state, stopped.task_state, stopped.power_state) == (
        states.STOPPED, None, states.SHUTDOWN)


def test_a_redelivered_report_changes_nothing():
    done = ev.InstanceStopped(host="h1", power_state=states.SHUTDOWN)
    stopped = active(ev.InstanceStopRequested(host="h1"), done)
    assert actions.finish(stopped, done) == []


def test_a_report_from_another_host_is_ignored():
    stopping = active(ev.InstanceStopRequested(host="h1"))
    assert actions.finish(stopping, ev.InstanceStopped(host="h2", power_state=4)) == []


@pytest.mark.parametrize("name, vm_state", [
    ("start", states.ACTIVE), ("unpause", states.ACTIVE), ("resume", states.ACTIVE),
])
def test_actions_from_a_state_not_in_the_table_are_refused(name, vm_state):
    with pytest.raises(InvalidTransition, match=f"Cannot '{name}' instance {ID} while it"
                                                f" is in vm_state {vm_state}"):
        actions.request(active(), name, is_admin=False)


def test_a_busy_server_refuses_with_its_task_state():
    with pytest.raises(InvalidTransition, match="in task_state powering-off"):
        actions.request(active(ev.InstanceStopRequested(host="h1")), "pause", is_admin=False)


def test_a_hard_reboot_may_interrupt_a_soft_one():
    rebooting = active(ev.InstanceRebootRequested(host="h1", hard=False))
    assert actions.request(rebooting, "reboot_hard", is_admin=False) == [
        ev.InstanceRebootRequested(host="h1", hard=True)]
    assert active(*actions.request(rebooting, "reboot_hard", is_admin=False)).task_state \
        == states.REBOOTING_HARD


def test_every_table_row_is_reachable_from_its_allowed_states():
    for name, action in lifecycle.ACTIONS.items():
        assert action.allowed, name
        assert action.done in lifecycle.VM_STATE_AFTER, name


def test_locks_refuse_everyone_but_admins_and_only_admins_undo_an_admin_lock():
    locked = active(*actions.lock(active(), reason="audit", is_admin=True))
    assert (locked.locked, locked.locked_by, locked.locked_reason) == (True, "admin", "audit")
    with pytest.raises(InstanceLocked):
        actions.request(locked, "stop", is_admin=False)
    assert actions.request(locked, "stop", is_admin=True)
    with pytest.raises(NotAllowed):
        actions.unlock(locked, is_admin=False)
    assert actions.lock(locked, reason=None, is_admin=True) == []
    assert active(*actions.lock(active(), reason=None, is_admin=True),
                  *actions.unlock(locked, is_admin=True)).locked is False


def test_resize_keeps_the_old_flavor_until_confirmed_and_revert_restores_it():
    requested = actions.resize(active(), flavor=SMALL, is_admin=False)
    resized = active(*requested, ev.InstanceResized(host="h1", power_state=1))
    assert (resized.vm_state, resized.flavor, resized.old_flavor) == (
        states.RESIZED, SMALL, TINY)
    assert states.api_status(resized.vm_state, resized.task_state) == "VERIFY_RESIZE"
    confirmed = active(*requested, ev.InstanceResized(host="h1", power_state=1),
                       *actions.confirm_resize(resized, is_admin=False))
    assert (confirmed.vm_state, confirmed.flavor, confirmed.old_flavor) == (
        states.ACTIVE, SMALL, None)
    reverting = actions.revert_resize(resized, is_admin=False)
    assert reverting[0].flavor == TINY
    reverted = active(*requested, ev.InstanceResized(host="h1", power_state=1), *reverting,
                      ev.InstanceResizeReverted(host="h1", power_state=1))
    assert (reverted.vm_state, reverted.flavor, reverted.old_flavor) == (
        states.ACTIVE, TINY, None)


STOPPED = (ev.InstanceStopRequested(host="h1"),
           ev.InstanceStopped(host="h1", power_state=states.SHUTDOWN))


def test_a_stopped_server_is_rebuilt_with_its_guest_off_and_stays_stopped():
    [requested] = actions.rebuild(active(*STOPPED), image_ref="img2", name=None,
                                  is_admin=False)
    assert requested.power_on is False
    [running] = actions.rebuild(active(), image_ref="img2", name=None, is_admin=False)
    assert running.power_on is True
    rebuilt = active(*STOPPED, requested,
                     ev.InstanceRebuilt(host="h1", power_state=states.SHUTDOWN,
                                        image_ref="img2"))
    assert (rebuilt.vm_state, rebuilt.task_state, rebuilt.power_state, rebuilt.image_ref) \
        == (states.STOPPED, None, states.SHUTDOWN, "img2")
    assert states.api_status(rebuilt.vm_state, rebuilt.task_state) == "SHUTOFF"


def test_a_log_from_before_guests_were_left_off_replays_as_it_was_shown():
    # Such a log started the stopped server's rebuilt (and reverted) guest: ACTIVE.
    old = ev.InstanceRebuildRequested(host="h1", image_ref="img2", name="vm", flavor=TINY)
    assert old.power_on is True
    rebuilt = active(*STOPPED, old, ev.InstanceRebuilt(host="h1", power_state=1,
                                                       image_ref="img2"))
    assert (rebuilt.vm_state, rebuilt.power_state) == (states.ACTIVE, 1)
    reverted = active(*STOPPED,
                      ev.InstanceResizeRequested(host="h1", name="vm", image_ref="img",
                                                 old_flavor=TINY, flavor=SMALL),
                      ev.InstanceResized(host="h1", power_state=1),
                      ev.InstanceResizeRevertRequested(host="h1", name="vm",
                                                       image_ref="img", flavor=TINY),
                      ev.InstanceResizeReverted(host="h1", power_state=1))
    assert (reverted.vm_state, reverted.flavor) == (states.ACTIVE, TINY)


def test_the_json_of_an_old_request_without_power_on_reads_as_starting_the_guest():
    flavor = '{"flavorid":"1","name":"m1.tiny","vcpus":1,"ram":512,"disk":1}'
    for name, data in [
        ("InstanceRebuildRequested", f'"image_ref":"i","name":"vm","flavor":{flavor}'),
        ("InstanceResizeRequested",
         f'"name":"vm","image_ref":"i","old_flavor":{flavor},"flavor":{flavor}'),
        ("InstanceResizeRevertRequested", f'"name":"vm","image_ref":"i","flavor":{flavor}'),
    ]:
        raw = (f'{{"event":"{name}","aggregate":"instance","id":"{ID}","key":"{ID}",'
               f'"version":5,"timestamp":"2025-01-01T00:00:00+00:00","request_id":null,'
               f'"actor":{{}},"data":{{"host":"h1",{data}}}}}')
        assert envelope.decode(raw.encode()).data.power_on is True, name


def test_a_stopped_server_is_resized_off_and_is_stopped_after_confirm_or_revert():
    stopped = active(*STOPPED)
    [requested] = actions.resize(stopped, flavor=SMALL, is_admin=False)
    assert requested.power_on is False
    resized = active(*STOPPED, requested,
                     ev.InstanceResized(host="h1", power_state=states.SHUTDOWN))
    assert (resized.vm_state, resized.power_state, resized.old_vm_state) == (
        states.RESIZED, states.SHUTDOWN, states.STOPPED)
    assert states.api_status(resized.vm_state, resized.task_state) == "VERIFY_RESIZE"
    confirmed = active(*STOPPED, requested, ev.InstanceResized(host="h1", power_state=4),
                       *actions.confirm_resize(resized, is_admin=False))
    assert (confirmed.vm_state, confirmed.flavor, confirmed.old_vm_state) == (
        states.STOPPED, SMALL, None)
    [reverting] = actions.revert_resize(resized, is_admin=False)
    assert (reverting.power_on, reverting.flavor) == (False, TINY)
    reverted = active(*STOPPED, requested, ev.InstanceResized(host="h1", power_state=4),
                      reverting, ev.InstanceResizeReverted(host="h1", power_state=4))
    assert (reverted.vm_state, reverted.flavor, reverted.power_state,
            reverted.old_vm_state) == (states.STOPPED, TINY, states.SHUTDOWN, None)


def test_a_running_server_is_reverted_with_its_guest_started():
    [requested] = actions.resize(active(), flavor=SMALL, is_admin=False)
    assert requested.power_on is True
    resized = active(requested, ev.InstanceResized(host="h1", power_state=1))
    assert resized.old_vm_state == states.ACTIVE
    [reverting] = actions.revert_resize(resized, is_admin=False)
    assert reverting.power_on is True


def test_resize_needs_another_flavor_with_no_smaller_disk():
    with pytest.raises(Invalid, match="must change flavor"):
        actions.resize(active(), flavor=TINY, is_admin=False)
    smaller = ev.FlavorSpec(flavorid="tiny0", name="t0", vcpus=1, ram=512, disk=0)
    with pytest.raises(Invalid, match="smaller root disk"):
        actions.resize(active(), flavor=smaller, is_admin=False)


def test_a_failed_stop_goes_back_to_active_but_a_failed_rebuild_is_an_error():
    stopping = active(ev.InstanceStopRequested(host="h1"))
    [failed] = actions.fail(stopping, host="h1", task_state=states.POWERING_OFF,
                            message="boom")
    assert (failed.vm_state, failed.action) == (states.ACTIVE, "stop")
    assert active(ev.InstanceStopRequested(host="h1"), failed).task_state is None
    rebuilding = active(*actions.rebuild(active(), image_ref="img2", name=None,
                                         is_admin=False))
    [broken] = actions.fail(rebuilding, host="h1", task_state=states.REBUILDING,
                            message="disk gone")
    assert broken.vm_state == states.ERROR and broken.fault.message == "disk gone"


def test_a_guest_that_shut_itself_down_is_observed_stopped_once():
    [seen] = actions.observe_power(active(), host="h1", power_state=states.SHUTDOWN)
    assert seen.vm_state == states.STOPPED
    assert actions.observe_power(active(seen), host="h1", power_state=states.SHUTDOWN) == []
    busy = active(ev.InstanceStopRequested(host="h1"))
    assert actions.observe_power(busy, host="h1", power_state=states.SHUTDOWN) == []


def test_reset_state_drops_the_task():
    stuck = active(ev.InstanceStopRequested(host="h1"))
    reset = active(ev.InstanceStopRequested(host="h1"),
                   *actions.reset_state(stuck, state="error"))
    assert (reset.vm_state, reset.task_state) == (states.ERROR, None)


@pytest.mark.parametrize("vm_state, task_state, status", [
    (states.ACTIVE, states.REBOOTING, "REBOOT"),
    (states.ACTIVE, states.REBOOTING_HARD, "HARD_REBOOT"),
    (states.STOPPED, states.REBUILDING, "REBUILD"),
    (states.ACTIVE, states.RESIZE_PREP, "RESIZE"),
    (states.RESIZED, states.RESIZE_REVERTING, "REVERT_RESIZE"),
    (states.ACTIVE, states.POWERING_OFF, "ACTIVE"),
    (states.STOPPED, states.DELETING, "SHUTOFF"),
])
def test_api_status_follows_novas_state_map(vm_state, task_state, status):
    assert states.api_status(vm_state, task_state) == status
