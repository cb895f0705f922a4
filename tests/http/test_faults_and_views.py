"""Pure parts of the HTTP layer: the exception → fault table, versions, rendering."""

import datetime as dt
import hashlib

import pytest

from cloud.domain.errors import Conflict, HostFull, Invalid, InvalidTransition, NotFound
from cloud.http import faults, microversions, views
from cloud.http.faults import BadRequest, NotAcceptable

LINKS = views.Links("http://api.test:8774/")


@pytest.mark.parametrize("exc, status, message", [
    (NotFound("Instance", "abc"), 404, "Instance abc could not be found."),
    (Invalid("no"), 400, "no"),
    (InvalidTransition("abc", "stopped", "stop"), 409,
     "Cannot 'stop' instance abc while it is in vm_state stopped"),
    (Conflict("raced"), 409, "raced"),
    (BadRequest("bad"), 400, "bad"),
])
def test_expected_errors_become_faults(exc, status, message):
    described = faults.describe(exc)
    assert (described.status, described.message) == (status, message)


def test_unexpected_errors_are_not_described():
    assert faults.describe(RuntimeError("boom")) is None
    assert faults.describe(HostFull("h", "ram")) is None


@pytest.mark.parametrize("status, name", [
    (400, "badRequest"), (404, "itemNotFound"), (405, "badMethod"),
    (409, "conflictingRequest"), (406, "computeFault"), (500, "computeFault"),
])
def test_fault_names(status, name):
    assert faults.fault_body(status, "m") == {name: {"code": status, "message": "m"}}


def test_microversion_headers_and_parsing():
    assert microversions.requested({}) == microversions.MIN_VERSION
    assert microversions.requested({"OpenStack-API-Version": "compute latest"}) == \
        microversions.MAX_VERSION
    with pytest.raises(NotAcceptable):
        microversions.requested({"OpenStack-API-Version": "compute 2.0"})
    with pytest.raises(BadRequest):
        microversions.requested({"OpenStack-API-Version": "compute 2.x"})
    assert microversions.response_headers(microversions.APIVersion(2, 1)) == {
        "OpenStack-API-Version": "compute 2.1", "X-OpenStack-Nova-API-Version": "2.1",
        "Vary": "OpenStack-API-Version, X-OpenStack-Nova-API-Version"}


def server_row(**changes):
    created = dt.datetime(2026, 11, 24, 5, 54, 15, 123456, tzinfo=dt.UTC)
    row = {
        "id": "0d1e7a3c-1111-4222-8333-444455556666", "name": "vm", "project_id": "p1",
        "user_id": "u1", "flavor": {"flavorid": "1", "name": "m1.tiny"},
        "image_ref": "img", "vm_state": "active", "task_state": None, "power_state": 1,
        "host": "node-a", "node": "node-a", "metadata": {}, "availability_zone": None,
        "key_name": None, "fault": None, "created_at": created, "updated_at": created,
        "launched_at": created, "terminated_at": None,
    }
    return {**row, **changes}


def test_active_server_detail():
    server = views.server_detail(LINKS, server_row(), status="ACTIVE", is_admin=True)
    assert server["hostId"] == hashlib.sha224(b"p1node-a").hexdigest()
    assert server["created"] == "2026-11-24T05:54:15Z"
    assert server["OS-SRV-USG:launched_at"] == "2026-11-24T05:54:15.123456"
    assert server["progress"] == 0 and "fault" not in server
    assert server["OS-EXT-SRV-ATTR:host"] == "node-a"
    assert server["OS-EXT-SRV-ATTR:hypervisor_hostname"] == "node-a"
    assert server["OS-EXT-SRV-ATTR:instance_name"] == "instance-0d1e7a3c"
    assert server["links"][0]["href"] == \
        "http://api.test:8774/compute/v2.1/servers/0d1e7a3c-1111-4222-8333-444455556666"


def test_error_server_shows_fault_and_no_progress():
    fault = {"code": 500, "message": "No valid host was found.", "details": "trace",
             "created": "2026-11-24T05:54:15.5+00:00"}
    row = server_row(vm_state="error", host=None, node=None, fault=fault)
    server = views.server_detail(LINKS, row, status="ERROR", is_admin=False)
    assert server["fault"] == {"code": 500, "message": "No valid host was found.",
                               "created": "2026-11-24T05:54:15Z"}
    assert "progress" not in server and server["hostId"] == ""
    assert not any(key.startswith("OS-EXT-SRV-ATTR:") for key in server)
    admin_view = views.server_detail(LINKS, row, status="ERROR", is_admin=True)
    assert admin_view["fault"]["details"] == "trace"
