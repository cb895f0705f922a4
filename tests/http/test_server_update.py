"""PUT /servers/{id}: name, description (2.19), access addresses; Nova's answers."""

import uuid

import msgspec
import pytest

from cloud.domain import events as ev
from cloud.services.repository import load_instance
from tests.http.server_helpers import API, assert_fault, boot, headers, running_cloud


@pytest.fixture(scope="module")
def cloud(databases):
    with running_cloud(databases.make()) as cloud:
        yield cloud


def put(cloud, server_id, server, version="2.1", **kw):
    return cloud.client.put(f"{API}/servers/{server_id}", json={"server": server},
                            headers=headers(version, **kw))


def test_rename_answers_with_the_server_and_records_only_the_change(cloud):
    server_id = boot(cloud, "before")
    response = put(cloud, server_id, {"name": "after", "accessIPv4": "192.0.2.7"})
    assert response.status_code == 200, response.text
    server = response.json()["server"]
    assert (server["id"], server["name"], server["accessIPv4"]) == (
        server_id, "after", "192.0.2.7")
    assert server["accessIPv6"] == ""
    # Before 2.75 the answer leaves out the extended attributes.
    assert not {"OS-EXT-STS:vm_state", "key_name", "security_groups", "config_drive",
                "OS-EXT-AZ:availability_zone", "OS-SRV-USG:launched_at",
                "os-extended-volumes:volumes_attached"} & set(server)
    shown = cloud.client.get(f"{API}/servers/{server_id}", headers=headers()).json()
    assert shown["server"]["name"] == "after"
    assert shown["server"]["accessIPv4"] == "192.0.2.7"
    listed = cloud.client.get(f"{API}/servers", params={"name": "^after$"},
                              headers=headers()).json()["servers"]
    assert [s["id"] for s in listed] == [server_id]
    state, _ = load_instance(cloud.store, server_id)
    assert state.name == "after"
    updated = [e.data for e in cloud.store.load(uuid.UUID(server_id))
               if isinstance(e.data, ev.InstanceUpdated)]
    assert msgspec.json.encode(updated[-1]) == b'{"name":"after","access_ipv4":"192.0.2.7"}'


def test_an_update_changing_nothing_records_nothing(cloud):
    server_id = boot(cloud, "same")
    _, version = load_instance(cloud.store, server_id)
    assert put(cloud, server_id, {"name": "same"}).status_code == 200
    assert load_instance(cloud.store, server_id)[1] == version


def test_description_from_2_19(cloud):
    server_id = boot(cloud, "described")
    assert_fault(put(cloud, server_id, {"description": "x"}, "2.18"), 400, "badRequest")
    response = put(cloud, server_id, {"description": "web tier"}, "2.19")
    assert response.json()["server"]["description"] == "web tier"
    cleared = put(cloud, server_id, {"description": None}, "2.19").json()["server"]
    assert cleared["description"] is None
    assert "description" not in put(cloud, server_id, {"name": "d"}, "2.18").json()["server"]


def test_hostname_is_not_updatable_before_2_90(cloud):
    server_id = boot(cloud)
    assert_fault(put(cloud, server_id, {"hostname": "web"}, "2.25"), 400, "badRequest")


@pytest.mark.parametrize("server", [
    {"name": ""}, {"name": " padded"}, {"name": "x" * 256}, {"name": 5},
    {"accessIPv4": "10.0.0"}, {"accessIPv4": "::1"}, {"accessIPv6": "10.0.0.1"},
    {"description": "bell\x07"}, {"unknown": 1}, {"OS-DCF:diskConfig": "SOMETIMES"},
])
def test_bad_input_is_400(cloud, server):
    server_id = boot(cloud, "victim")
    assert_fault(put(cloud, server_id, server, "2.19"), 400, "badRequest")
    assert cloud.client.get(f"{API}/servers/{server_id}",
                            headers=headers()).json()["server"]["name"] == "victim"


def test_body_must_be_a_server_object(cloud):
    server_id = boot(cloud)
    for body in (b"", b"[]", b'{"server": "x"}', b'{"server": {}, "extra": 1}', b"{"):
        response = cloud.client.put(f"{API}/servers/{server_id}", content=body,
                                    headers=headers())
        assert_fault(response, 400, "badRequest")


def test_other_projects_and_deleted_servers_are_404(cloud):
    server_id = boot(cloud)
    message = f"Instance {server_id} could not be found."
    assert_fault(put(cloud, server_id, {"name": "x"}, project="p2"), 404, "itemNotFound",
                 message)
    assert cloud.client.delete(f"{API}/servers/{server_id}",
                               headers=headers()).status_code == 204
    assert_fault(put(cloud, server_id, {"name": "x"}), 404, "itemNotFound", message)
    assert_fault(put(cloud, "nope", {"name": "x"}), 404, "itemNotFound")


def test_readers_may_not_update_admins_may(cloud):
    server_id = boot(cloud)
    assert_fault(put(cloud, server_id, {"name": "x"}, reader=True), 403, "forbidden")
    response = put(cloud, server_id, {"name": "by-admin"}, admin=True, project="admin")
    assert response.status_code == 200
    assert response.json()["server"]["name"] == "by-admin"


def test_access_addresses_at_create(cloud):
    server_id = boot(cloud, accessIPv4="198.51.100.1", accessIPv6="2001:db8::1")
    server = cloud.client.get(f"{API}/servers/{server_id}", headers=headers()).json()
    assert (server["server"]["accessIPv4"], server["server"]["accessIPv6"]) == (
        "198.51.100.1", "2001:db8::1")
    body = {"server": {"name": "x", "imageRef": server["server"]["image"]["id"],
                       "flavorRef": "1", "accessIPv4": "300.1.1.1"}}
    assert_fault(cloud.client.post(f"{API}/servers", json=body, headers=headers()),
                 400, "badRequest")
