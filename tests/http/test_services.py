"""os-services through the real app over PostgreSQL: listing with Nova's fields by
microversion (2.11 forced_down), the switches as events, Nova's faults; and through real
processes: schedulers and conductors beat, and a disabled host gets no new servers."""

import uuid

import pytest

from cloud.domain import ids
from cloud.domain.flavor import DEFAULT_FLAVORS
from cloud.http import microversions
from cloud.services import instances
from cloud.services.catalog import DEFAULT_IMAGE_ID
from tests.agents.test_boot_flow import start_stack, wait_until
from tests.http.service_fixtures import API, assert_fault, headers, make_cloud

FIELDS_2_1 = {"id", "binary", "host", "zone", "status", "state", "updated_at",
              "disabled_reason"}
MAX = microversions.MAX_VERSION


@pytest.fixture
def cloud(database_url):
    with make_cloud(database_url) as cloud:
        cloud.register("c1")
        cloud.register("c2")
        cloud.beat("ctl", "nova-scheduler")
        cloud.beat("ctl", "nova-conductor")
        cloud.settle()
        yield cloud


def services(cloud, version="2.1", **params):
    response = cloud.client.get(f"{API}/os-services", params=params,
                                headers=headers(version))
    assert response.status_code == 200, response.text
    return response.json()["services"]


def by_key(listed):
    return {(s["host"], s["binary"]): s for s in listed}


def put(cloud, action, body, version="2.1"):
    return cloud.client.put(f"{API}/os-services/{action}", json=body,
                            headers=headers(version))


def test_list_shows_every_service_with_nova_fields_before_2_11(cloud):
    listed = services(cloud)
    assert {(s["host"], s["binary"]) for s in listed} == {
        ("c1", "nova-compute"), ("c2", "nova-compute"), ("ctl", "nova-scheduler"),
        ("ctl", "nova-conductor")}
    for shown in listed:
        assert set(shown) == FIELDS_2_1
        assert isinstance(shown["id"], int)
        assert shown["status"] == "enabled" and shown["state"] == "up"
        assert shown["disabled_reason"] is None
        assert shown["zone"] == ("nova" if shown["binary"] == "nova-compute" else "internal")
        assert len(shown["updated_at"]) == len("2012-10-29T13:42:02.000000")
    assert len({s["id"] for s in listed}) == 4
    assert services(cloud) == listed  # ids are stable


def test_a_compute_in_an_aggregate_with_a_zone_is_listed_in_that_zone(cloud):
    admin = headers("2.1")
    created = cloud.client.post(f"{API}/os-aggregates", headers=admin, json={
        "aggregate": {"name": "east", "availability_zone": "az-east"}})
    assert created.status_code == 200, created.text
    added = cloud.client.post(f"{API}/os-aggregates/{created.json()['aggregate']['id']}"
                              "/action", headers=admin, json={"add_host": {"host": "c1"}})
    assert added.status_code == 200, added.text
    cloud.settle()
    zones = {key: shown["zone"] for key, shown in by_key(services(cloud)).items()}
    assert zones == {("c1", "nova-compute"): "az-east", ("c2", "nova-compute"): "nova",
                     ("ctl", "nova-scheduler"): "internal",
                     ("ctl", "nova-conductor"): "internal"}


def test_forced_down_appears_at_2_11(cloud):
    assert all("forced_down" not in s for s in services(cloud, "2.10"))
    assert all(s["forced_down"] is False and set(s) == FIELDS_2_1 | {"forced_down"}
               for s in services(cloud, "2.11"))
    assert all("forced_down" in s for s in services(cloud, str(MAX)))


def test_filters_by_host_and_binary(cloud):
    assert {s["binary"] for s in services(cloud, host="ctl")} == {"nova-scheduler",
                                                                  "nova-conductor"}
    assert {s["host"] for s in services(cloud, binary="nova-compute")} == {"c1", "c2"}
    assert [s["host"] for s in services(cloud, host="c2", binary="nova-compute")] == ["c2"]
    assert services(cloud, host="nope") == []


def test_a_service_without_a_recent_heartbeat_is_down(cloud):
    cloud.beat("c2", "nova-compute", ago=120)
    assert by_key(services(cloud))[("c2", "nova-compute")]["state"] == "down"
    cloud.beat("c2", "nova-compute")
    assert by_key(services(cloud))[("c2", "nova-compute")]["state"] == "up"


def test_disable_with_and_without_reason_then_enable(cloud):
    body = {"host": "c1", "binary": "nova-compute"}
    response = put(cloud, "disable", body)
    assert response.status_code == 200
    assert response.json() == {"service": {**body, "status": "disabled"}}
    shown = by_key(services(cloud))[("c1", "nova-compute")]
    assert (shown["status"], shown["disabled_reason"]) == ("disabled", None)

    response = put(cloud, "disable-log-reason", {**body, "disabled_reason": "maintenance"})
    assert response.json() == {"service": {**body, "status": "disabled",
                                           "disabled_reason": "maintenance"}}
    assert by_key(services(cloud))[("c1", "nova-compute")]["disabled_reason"] == "maintenance"

    response = put(cloud, "enable", body)
    assert response.json() == {"service": {**body, "status": "enabled"}}
    shown = by_key(services(cloud))[("c1", "nova-compute")]
    assert (shown["status"], shown["disabled_reason"]) == ("enabled", None)
    stream = cloud.store.load(ids.service_stream("c1", "nova-compute"))
    assert [e.event for e in stream] == ["ServiceDisabled", "ServiceDisabled",
                                         "ServiceEnabled"]


def test_repeating_a_switch_records_nothing_new(cloud):
    body = {"host": "c1", "binary": "nova-compute"}
    for _ in range(2):
        assert put(cloud, "disable", body).status_code == 200
    assert len(cloud.store.load(ids.service_stream("c1", "nova-compute"))) == 1


def test_force_down_exists_from_2_11(cloud):
    body = {"host": "c2", "binary": "nova-compute", "forced_down": True}
    assert_fault(put(cloud, "force-down", body, "2.10"), 404, "itemNotFound",
                 "Unknown action")
    assert_fault(put(cloud, "disable", body, "2.10"), 400, "badRequest",
                 "Additional properties are not allowed ('forced_down' was unexpected)")
    response = put(cloud, "force-down", body, "2.11")
    assert response.status_code == 200
    assert response.json() == {"service": body}
    shown = by_key(services(cloud, "2.11"))[("c2", "nova-compute")]
    assert (shown["forced_down"], shown["state"]) == (True, "down")
    response = put(cloud, "force-down", {**body, "forced_down": "false"}, "2.11")
    assert response.json()["service"]["forced_down"] is False
    shown = by_key(services(cloud, "2.11"))[("c2", "nova-compute")]
    assert (shown["forced_down"], shown["state"]) == (False, "up")


@pytest.mark.parametrize("action,body,status,message", [
    ("reboot", {"host": "c1", "binary": "nova-compute"}, 404, "Unknown action"),
    ("disable", {"host": "c1"}, 400, "'binary' is a required property"),
    ("disable", {"host": "c1", "binary": "nova-compute", "zone": "x"}, 400,
     "Additional properties are not allowed ('zone' was unexpected)"),
    ("disable", {"host": "c1", "binary": ""}, 400,
     "Invalid input for field/attribute binary. Value: . '' is too short"),
    ("disable-log-reason", {"host": "c1", "binary": "nova-compute"}, 400,
     "Missing disabled reason field"),
    ("disable", {"host": "ctl", "binary": "nova-scheduler"}, 400,
     "Updating a nova-scheduler service is not supported. Only nova-compute services"
     " can be updated."),
    ("disable", {"host": "nowhere", "binary": "nova-compute"}, 404,
     "Could not find binary nova-compute on host nowhere."),
])
def test_bad_updates_get_nova_faults_and_record_nothing(cloud, action, body, status,
                                                        message):
    head = cloud.store.head()
    name = "itemNotFound" if status == 404 else "badRequest"
    assert_fault(put(cloud, action, body), status, name, message)
    assert cloud.store.head() == head


def test_force_down_needs_its_field(cloud):
    assert_fault(put(cloud, "force-down", {"host": "c1", "binary": "nova-compute"}, "2.11"),
                 400, "badRequest", "Missing forced_down field")


def test_non_admins_are_refused(cloud):
    for response in (
            cloud.client.get(f"{API}/os-services", headers=headers(admin=False)),
            cloud.client.put(f"{API}/os-services/disable", headers=headers(admin=False),
                             json={"host": "c1", "binary": "nova-compute"}),
            cloud.client.delete(f"{API}/os-services/1", headers=headers(admin=False))):
        assert_fault(response, 403, "forbidden")


def test_delete_a_service(cloud):
    scheduler = by_key(services(cloud))[("ctl", "nova-scheduler")]
    response = cloud.client.delete(f"{API}/os-services/{scheduler['id']}", headers=headers())
    assert response.status_code == 204
    assert ("ctl", "nova-scheduler") not in by_key(services(cloud))
    assert_fault(cloud.client.delete(f"{API}/os-services/{scheduler['id']}",
                                     headers=headers()),
                 404, "itemNotFound", f"Service {scheduler['id']} not found.")
    # It comes back as a new service when it beats again.
    cloud.beat("ctl", "nova-scheduler")
    assert by_key(services(cloud))[("ctl", "nova-scheduler")]["id"] != scheduler["id"]


def test_a_compute_hosting_servers_cannot_be_deleted(cloud):
    cloud.place("c1")
    compute = by_key(services(cloud))[("c1", "nova-compute")]
    assert_fault(cloud.client.delete(f"{API}/os-services/{compute['id']}", headers=headers()),
                 409, "conflictingRequest",
                 "Unable to delete compute service that is hosting instances. Migrate or"
                 " delete the instances first.")
    empty = by_key(services(cloud))[("c2", "nova-compute")]
    assert cloud.client.delete(f"{API}/os-services/{empty['id']}",
                               headers=headers()).status_code == 204
    hypervisors = cloud.client.get(f"{API}/os-hypervisors", headers=headers()).json()
    assert [h["hypervisor_hostname"] for h in hypervisors["hypervisors"]] == [
        "c1.example.org"]


def test_delete_wants_an_integer_id_before_2_53(cloud):
    assert_fault(cloud.client.delete(f"{API}/os-services/{uuid.uuid4()}", headers=headers()),
                 400, "badRequest", "Invalid input received: id must be an integer")


# --- later microversions (run once MAX_VERSION serves them) ---------------------------


@pytest.mark.skipif(MAX < (2, 53), reason="served from 2.53")
def test_2_53_services_are_named_by_uuid(cloud):
    listed = by_key(services(cloud, "2.53"))
    compute = listed[("c1", "nova-compute")]
    assert compute["id"] == str(ids.service_stream("c1", "nova-compute"))
    url = f"{API}/os-services/{compute['id']}"
    response = cloud.client.put(url, json={"status": "disabled", "disabled_reason": "x",
                                           "forced_down": True}, headers=headers("2.53"))
    assert response.status_code == 200, response.text
    shown = response.json()["service"]
    assert (shown["status"], shown["disabled_reason"], shown["forced_down"],
            shown["state"]) == ("disabled", "x", True, "down")
    assert_fault(cloud.client.put(url, json={}, headers=headers("2.53")), 400, "badRequest",
                 "No updates were requested. Fields 'status' or 'forced_down' should be"
                 " specified.")
    assert_fault(cloud.client.put(url, json={"status": "enabled", "disabled_reason": "x"},
                                  headers=headers("2.53")), 400, "badRequest",
                 "Specifying 'disabled_reason' with status 'enabled' is invalid.")
    assert_fault(put(cloud, "disable", {"host": "c1", "binary": "nova-compute"}, "2.53"),
                 400, "badRequest", "Invalid uuid disable")
    scheduler = listed[("ctl", "nova-scheduler")]["id"]
    assert_fault(cloud.client.put(f"{API}/os-services/{scheduler}", json={"status": "disabled"},
                                  headers=headers("2.53")), 400, "badRequest")
    missing = uuid.uuid4()
    assert_fault(cloud.client.put(f"{API}/os-services/{missing}", json={"status": "enabled"},
                                  headers=headers("2.53")), 404, "itemNotFound",
                 f"Service {missing} could not be found.")
    assert_fault(cloud.client.delete(f"{API}/os-services/1", headers=headers("2.53")), 400,
                 "badRequest", "Invalid uuid 1")
    assert cloud.client.delete(f"{API}/os-services/{scheduler}",
                               headers=headers("2.53")).status_code == 204


# --- the real flow --------------------------------------------------------------------


def test_processes_beat_and_a_disabled_host_receives_no_new_servers(
        nats_server, database_url, processes):
    start_stack(processes, nats_server, database_url, hosts=("host1", "host2"))
    with make_cloud(database_url) as cloud:
        wait_until(lambda: {"nova-scheduler", "nova-conductor"} <= {
            s["binary"] for s in services(cloud) if s["state"] == "up"})
        wait_until(lambda: len(services(cloud, binary="nova-compute")) == 2)
        body = {"host": "host1", "binary": "nova-compute", "disabled_reason": "drain"}
        assert put(cloud, "disable-log-reason", body).status_code == 200
        context = cloud.context()
        booted = [instances.create(cloud.store, name=f"vm{n}", flavor=DEFAULT_FLAVORS[0],
                                   image_ref=DEFAULT_IMAGE_ID, context=context)[0]
                  for n in range(4)]
        placed = [wait_until(lambda: (s := cloud.read_models.server(server_id))
                             and s["vm_state"] == "active" and s["host"])
                  for server_id in booted]
        assert placed == ["host2"] * 4

        put(cloud, "disable-log-reason", {**body, "host": "host2"})
        server_id, _ = instances.create(cloud.store, name="nowhere",
                                        flavor=DEFAULT_FLAVORS[0],
                                        image_ref=DEFAULT_IMAGE_ID, context=context)
        failed = wait_until(lambda: (s := cloud.read_models.server(server_id))
                            and s["vm_state"] == "error" and s)
        assert "Compute: 2 of 2 hosts removed" in failed["fault"]["message"]
