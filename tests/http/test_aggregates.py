"""Host aggregates and availability zones over HTTP, against a real PostgreSQL log."""

import pytest
from litestar.testing import TestClient

from cloud.adapters.eventstore import EventStore
from cloud.domain.envelope import Actor, Context
from cloud.http.aggregates import aggregate_view
from cloud.http.app import create_app
from cloud.http.microversions import APIVersion
from cloud.projections import projector
from cloud.projections.queries import ReadModels
from cloud.services import hosts
from cloud.util import utcnow

API = "/compute/v2.1"
MEMBER = {"X-Auth-User": "alice", "X-Auth-Project-Id": "demo", "X-Roles": "member"}
AGGREGATE_FIELDS = {"availability_zone", "created_at", "deleted", "deleted_at", "hosts",
                    "id", "metadata", "name", "updated_at"}


@pytest.fixture(scope="module")
def database_url(databases):
    return databases.make()


@pytest.fixture(scope="module")
def client(database_url):
    store, read_models = EventStore(database_url), ReadModels(database_url)
    context = Context(request_id="req-t", actor=Actor(agent="test"), timestamp=utcnow())
    for name in ("h1", "h2", "h3"):
        hosts.register(store, name, context=context, hypervisor_type="QEMU",
                       hypervisor_hostname=name, vcpus=4, memory_mb=4096, disk_gb=40)
    app = create_app(store=store, read_models=read_models)
    with projector.in_background(database_url), TestClient(app) as client:
        read_models.wait_for(store.head())
        yield client
    read_models.close()
    store.close()


def fault(response, status, name):
    assert response.status_code == status, response.text
    body = response.json()
    assert list(body) == [name] and body[name]["code"] == status
    return body[name]["message"]


def create(client, name, zone=None):
    body = {"aggregate": {"name": name, **({"availability_zone": zone} if zone else {})}}
    response = client.post(f"{API}/os-aggregates", json=body)
    assert response.status_code == 200, response.text
    return response.json()["aggregate"]


def action(client, aggregate_id, name, value):
    return client.post(f"{API}/os-aggregates/{aggregate_id}/action", json={name: value})


def test_create_show_list_update_delete(client):
    created = create(client, "rack-1", "london")
    assert set(created) == AGGREGATE_FIELDS - {"hosts", "metadata"}
    assert created["availability_zone"] == "london" and created["deleted"] is False
    assert isinstance(created["id"], int) and created["updated_at"] is None
    shown = client.get(f"{API}/os-aggregates/{created['id']}").json()["aggregate"]
    assert set(shown) == AGGREGATE_FIELDS
    assert shown["hosts"] == [] and shown["metadata"] == {"availability_zone": "london"}
    listed = client.get(f"{API}/os-aggregates").json()["aggregates"]
    assert created["id"] in [a["id"] for a in listed]

    updated = client.put(f"{API}/os-aggregates/{created['id']}",
                         json={"aggregate": {"name": "rack-1b", "availability_zone": "paris"}})
    assert updated.status_code == 200, updated.text
    body = updated.json()["aggregate"]
    assert body["name"] == "rack-1b" and body["availability_zone"] == "paris"
    assert body["updated_at"] is not None
    # The old name is free again, the new one is taken.
    create(client, "rack-1")
    message = fault(client.post(f"{API}/os-aggregates",
                                json={"aggregate": {"name": "rack-1b"}}), 409,
                    "conflictingRequest")
    assert message == "Aggregate rack-1b already exists."

    deleted = client.delete(f"{API}/os-aggregates/{created['id']}")
    assert deleted.status_code == 200
    fault(client.get(f"{API}/os-aggregates/{created['id']}"), 404, "itemNotFound")


def test_hosts_join_and_leave_with_nova_errors(client):
    agg = create(client, "hosts-agg")
    added = action(client, agg["id"], "add_host", {"host": "h1"})
    assert added.status_code == 200 and added.json()["aggregate"]["hosts"] == ["h1"]
    fault(action(client, agg["id"], "add_host", {"host": "h1"}), 409, "conflictingRequest")
    assert fault(action(client, agg["id"], "add_host", {"host": "nowhere"}), 404,
                 "itemNotFound") == "Compute host nowhere could not be found."
    # An aggregate holding hosts cannot go (Nova: 400).
    fault(client.delete(f"{API}/os-aggregates/{agg['id']}"), 400, "badRequest")
    removed = action(client, agg["id"], "remove_host", {"host": "h1"})
    assert removed.status_code == 200 and removed.json()["aggregate"]["hosts"] == []
    assert fault(action(client, agg["id"], "remove_host", {"host": "h1"}), 404,
                 "itemNotFound") == f"Cannot remove host h1 in aggregate {agg['id']}"
    assert client.delete(f"{API}/os-aggregates/{agg['id']}").status_code == 200


def test_metadata_sets_removes_and_moves_the_zone(client):
    agg = create(client, "meta-agg")
    set_ = action(client, agg["id"], "set_metadata",
                  {"metadata": {"ssd": "true", "availability_zone": "zone-m"}})
    assert set_.json()["aggregate"]["metadata"] == {"ssd": "true",
                                                    "availability_zone": "zone-m"}
    dropped = action(client, agg["id"], "set_metadata", {"metadata": {"ssd": None}})
    assert dropped.json()["aggregate"]["metadata"] == {"availability_zone": "zone-m"}
    assert dropped.json()["aggregate"]["availability_zone"] == "zone-m"
    fault(action(client, agg["id"], "set_metadata",
                 {"metadata": {"availability_zone": None}}), 400, "badRequest")


def test_a_host_is_in_one_zone_only(client):
    east, west = create(client, "east", "east-az"), create(client, "west", "west-az")
    assert action(client, east["id"], "add_host", {"host": "h2"}).status_code == 200
    message = fault(action(client, west["id"], "add_host", {"host": "h2"}), 409,
                    "conflictingRequest")
    assert "One or more hosts already in availability zone(s) ['east-az']" in message
    action(client, east["id"], "remove_host", {"host": "h2"})


def test_bad_input_and_ids(client):
    fault(client.get(f"{API}/os-aggregates/abc"), 400, "badRequest")
    fault(client.get(f"{API}/os-aggregates/99999"), 404, "itemNotFound")
    fault(client.post(f"{API}/os-aggregates", json={"aggregate": {"name": "x",
                                                                 "bogus": 1}}),
          400, "badRequest")
    fault(client.post(f"{API}/os-aggregates", json={"aggregate": {
        "name": "x", "availability_zone": "a:b"}}), 400, "badRequest")
    fault(client.put(f"{API}/os-aggregates/1", json={"aggregate": {}}), 400, "badRequest")


def test_only_admins_manage_aggregates(client):
    fault(client.get(f"{API}/os-aggregates", headers=MEMBER), 403, "forbidden")
    fault(client.post(f"{API}/os-aggregates", json={"aggregate": {"name": "n"}},
                      headers=MEMBER), 403, "forbidden")


def test_zones_for_everyone_and_detail_for_admins(client):
    zoned = create(client, "zoned", "az-detail")
    action(client, zoned["id"], "add_host", {"host": "h3"})
    zones = client.get(f"{API}/os-availability-zone", headers=MEMBER).json()
    listed = {z["zoneName"]: z for z in zones["availabilityZoneInfo"]}
    assert listed["az-detail"] == {"zoneName": "az-detail", "zoneState": {"available": True},
                                   "hosts": None}
    assert "nova" in listed and "internal" not in listed
    fault(client.get(f"{API}/os-availability-zone/detail", headers=MEMBER), 403,
          "forbidden")
    detail = client.get(f"{API}/os-availability-zone/detail").json()["availabilityZoneInfo"]
    assert {z["zoneName"] for z in detail} >= {"nova", "az-detail"}
    action(client, zoned["id"], "remove_host", {"host": "h3"})


def test_aggregate_uuid_from_2_41_only():
    row = {"id": 1, "uuid": "u", "name": "n", "metadata": {}, "hosts": [],
           "created_at": None, "updated_at": None}
    assert "uuid" not in aggregate_view(row, APIVersion(2, 40))
    assert aggregate_view(row, APIVersion(2, 41))["uuid"] == "u"
