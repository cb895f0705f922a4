"""The pieces of ``os-instance-actions`` that need no server: the views at every
microversion (including those above what is served today) and the projection's tables."""

import datetime as dt

from cloud.domain.events import EVENT_TYPES
from cloud.http.instance_actions import action_view, step_fields, step_view
from cloud.http.microversions import APIVersion
from cloud.http.views import host_id
from cloud.projections import instance_actions

STEP_KEYS = {"event", "start_time", "finish_time", "result"}


def test_every_event_named_in_the_tables_exists():
    named = {*instance_actions.ACTIONS, *instance_actions.STEPS,
             *(done for _, done in instance_actions.HOST_STEPS.values())}
    assert named <= set(EVENT_TYPES)


def test_views_at_later_microversions():
    row = {"action": "stop", "instance_uuid": "i", "request_id": "req-1", "user_id": "u",
           "project_id": "p", "start_time": dt.datetime(2024, 1, 2, 3, 4, 5, 6, dt.UTC),
           "updated_at": dt.datetime(2024, 1, 2, 3, 4, 6, tzinfo=dt.UTC), "message": None}
    assert "updated_at" not in action_view(row, APIVersion(2, 57))
    later = action_view(row, APIVersion(2, 58))
    assert (later["start_time"], later["updated_at"]) == (
        "2024-01-02T03:04:05.000006", "2024-01-02T03:04:06.000000")
    assert step_fields(APIVersion(2, 50), sees_all=False, sees_details=False) is None
    step = {"event": "compute_stop_instance", "start_time": row["start_time"],
            "finish_time": None, "result": None, "host": "h1", "traceback": "tb",
            "details": "boom"}
    seen = {(version, admin): set(step_view(step, project_id="p", fields=step_fields(
        APIVersion(*version), sees_all=admin, sees_details=admin)))
        for version in ((2, 51), (2, 62), (2, 84)) for admin in (False, True)}
    assert seen == {
        ((2, 51), False): STEP_KEYS, ((2, 51), True): STEP_KEYS | {"traceback"},
        ((2, 62), False): STEP_KEYS | {"hostId"},
        ((2, 62), True): STEP_KEYS | {"traceback", "host", "hostId"},
        ((2, 84), False): STEP_KEYS | {"hostId"},
        ((2, 84), True): STEP_KEYS | {"traceback", "host", "hostId", "details"}}
    assert step_view(step, project_id="p", fields=step_fields(
        APIVersion(2, 62), sees_all=False, sees_details=False))["hostId"] == host_id("p", "h1")
