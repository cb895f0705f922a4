"""The Service aggregate: given its events, when an operator switches it, then these
events (or this refusal); and when it counts as up."""

import datetime as dt

import pytest

from cloud.domain import service
from cloud.domain.errors import Conflict, Invalid
from cloud.domain.events import ServiceDisabled, ServiceEnabled, ServiceForcedDown
from cloud.domain.service import Service

NOW = dt.datetime(2024, 1, 1, 12, 0, tzinfo=dt.UTC)


def compute(*events) -> Service:
    state = Service(host="h1", binary=service.COMPUTE)
    for event in events:
        state = service.evolve(state, event)
    return state


def test_disable_enable_and_force_down_are_events_only_when_they_change_something():
    assert service.disable(compute(), reason="fan") == [
        ServiceDisabled(host="h1", binary="nova-compute", reason="fan")]
    disabled = compute(*service.disable(compute(), reason="fan"))
    assert (disabled.disabled, disabled.disabled_reason) == (True, "fan")
    assert service.disable(disabled, reason="fan") == []
    assert service.disable(disabled, reason="psu") != []
    assert service.enable(compute()) == []
    assert service.enable(disabled) == [ServiceEnabled(host="h1", binary="nova-compute")]
    assert compute(*service.disable(compute()), ServiceEnabled(
        host="h1", binary="nova-compute")).disabled_reason is None
    assert service.force_down(compute(), forced_down=False) == []
    assert service.force_down(compute(), forced_down=True) == [
        ServiceForcedDown(host="h1", binary="nova-compute", forced_down=True)]


def test_only_computes_can_be_switched():
    scheduler = Service(host="ctl", binary=service.SCHEDULER)
    with pytest.raises(Invalid, match="Updating a nova-scheduler service is not supported"):
        service.disable(scheduler)
    assert service.delete(scheduler)  # but any service can be deleted


def test_the_2_53_update_combines_status_and_forced_down():
    events = service.update(compute(), status="disabled", reason="x", forced_down=True)
    assert [type(e) for e in events] == [ServiceDisabled, ServiceForcedDown]
    with pytest.raises(Invalid, match="No updates were requested"):
        service.update(compute())
    with pytest.raises(Invalid, match="Specifying 'disabled_reason' with status 'enabled'"):
        service.update(compute(), status="enabled", reason="x")


def test_a_compute_hosting_servers_is_not_deleted_and_a_deleted_one_starts_afresh():
    with pytest.raises(Conflict, match="hosting instances"):
        service.delete(compute(), servers_hosted=1)
    switched = compute(*service.disable(compute(), reason="x"),
                       *service.force_down(compute(), forced_down=True))
    assert service.evolve(switched, service.delete(switched)[0]) == compute()


@pytest.mark.parametrize("seen_ago,forced,up", [
    (5, False, True), (60, False, True), (61, False, False), (5, True, False),
    (None, False, False)])
def test_up_means_a_recent_heartbeat_and_not_forced_down(seen_ago, forced, up):
    seen = None if seen_ago is None else NOW - dt.timedelta(seconds=seen_ago)
    assert service.is_up(seen, forced_down=forced, now=NOW) is up
