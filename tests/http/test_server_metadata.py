"""/servers/{id}/metadata: list, replace, merge, one item; quota, state and lock rules."""

import pytest

from cloud.services.repository import load_instance
from tests.http.server_helpers import API, activate, assert_fault, boot, headers, running_cloud


@pytest.fixture(scope="module")
def cloud(databases):
    with running_cloud(databases.make()) as cloud:
        yield cloud


@pytest.fixture
def server(cloud):
    server_id = boot(cloud, metadata={"a": "1", "b": "2"})
    activate(cloud, server_id)
    return server_id


def url(server_id, key=None):
    return f"{API}/servers/{server_id}/metadata" + (f"/{key}" if key else "")


def test_list_merge_replace(cloud, server):
    client = cloud.client
    assert client.get(url(server), headers=headers()).json() == {
        "metadata": {"a": "1", "b": "2"}}
    merged = client.post(url(server), json={"metadata": {"b": "3", "c": "4"}},
                         headers=headers())
    assert merged.status_code == 200
    assert merged.json() == {"metadata": {"a": "1", "b": "3", "c": "4"}}
    replaced = client.put(url(server), json={"metadata": {"z": "9"}}, headers=headers())
    assert replaced.status_code == 200 and replaced.json() == {"metadata": {"z": "9"}}
    shown = client.get(f"{API}/servers/{server}", headers=headers()).json()["server"]
    assert shown["metadata"] == {"z": "9"}
    assert load_instance(cloud.store, server)[0].metadata == {"z": "9"}


def test_one_item(cloud, server):
    client = cloud.client
    assert client.get(url(server, "a"), headers=headers()).json() == {"meta": {"a": "1"}}
    response = client.put(url(server, "new"), json={"meta": {"new": "v"}}, headers=headers())
    assert response.status_code == 200 and response.json() == {"meta": {"new": "v"}}
    assert client.get(url(server), headers=headers()).json()["metadata"] == {
        "a": "1", "b": "2", "new": "v"}
    assert client.delete(url(server, "a"), headers=headers()).status_code == 204
    assert client.get(url(server), headers=headers()).json()["metadata"] == {
        "b": "2", "new": "v"}
    assert_fault(client.get(url(server, "a"), headers=headers()), 404, "itemNotFound",
                 "Metadata item was not found")
    assert_fault(client.delete(url(server, "a"), headers=headers()), 404, "itemNotFound",
                 "Metadata item was not found")


@pytest.mark.parametrize("body", [
    {"meta": {"other": "v"}}, {"meta": {"k": "v", "k2": "v"}}, {"meta": {}},
    {"metadata": {"k": "v"}}, {"meta": {"k": 1}}, {"meta": {"k": "v" * 256}},
])
def test_item_bodies_must_name_exactly_the_key(cloud, server, body):
    assert_fault(cloud.client.put(url(server, "k"), json=body, headers=headers()),
                 400, "badRequest")


def test_mismatch_message(cloud, server):
    assert_fault(cloud.client.put(url(server, "k"), json={"meta": {"j": "v"}},
                                  headers=headers()), 400, "badRequest",
                 "Request body and URI mismatch")


@pytest.mark.parametrize("items", [{"bad/key": "v"}, {"": "v"}, {"k" * 256: "v"},
                                   {"k": "v" * 256}, ["k"]])
def test_bad_metadata_is_400_and_nothing_changes(cloud, server, items):
    for method in (cloud.client.put, cloud.client.post):
        assert_fault(method(url(server), json={"metadata": items}, headers=headers()),
                     400, "badRequest")
    assert cloud.client.get(url(server), headers=headers()).json()["metadata"] == {
        "a": "1", "b": "2"}


def test_quota_of_metadata_items(cloud, server):
    client = cloud.client
    limit = {"quota_set": {"metadata_items": 3}}
    assert client.put(f"{API}/os-quota-sets/p1", json=limit,
                      headers=headers(admin=True)).status_code == 200
    try:
        message = "Maximum number of metadata items exceeds 3"
        assert_fault(client.post(url(server), json={"metadata": {"c": "", "d": ""}},
                                 headers=headers()), 403, "forbidden", message)
        assert_fault(client.put(url(server), json={"metadata": dict.fromkeys("wxyz", "")},
                                headers=headers()), 403, "forbidden", message)
        assert client.post(url(server), json={"metadata": {"c": ""}},
                           headers=headers()).status_code == 200
        assert_fault(client.put(url(server, "d"), json={"meta": {"d": ""}},
                                headers=headers()), 403, "forbidden", message)
    finally:
        client.put(f"{API}/os-quota-sets/p1", json={"quota_set": {"metadata_items": 128}},
                   headers=headers(admin=True))


def test_building_servers_refuse_changes_409(cloud):
    server_id = boot(cloud)
    assert_fault(cloud.client.post(url(server_id), json={"metadata": {"k": "v"}},
                                   headers=headers()), 409, "conflictingRequest",
                 f"Cannot 'update metadata' instance {server_id} while it is in"
                 " vm_state building")
    assert cloud.client.get(url(server_id), headers=headers()).json() == {"metadata": {}}


def test_locked_servers_refuse_non_admins(cloud, server):
    locked = cloud.client.post(f"{API}/servers/{server}/action", json={"lock": None},
                               headers=headers(admin=True, project="admin"))
    assert locked.status_code == 202, locked.text
    assert_fault(cloud.client.post(url(server), json={"metadata": {"k": "v"}},
                                   headers=headers()), 409, "conflictingRequest",
                 f"Instance {server} is locked")
    assert_fault(cloud.client.delete(url(server, "a"), headers=headers()), 409,
                 "conflictingRequest")
    response = cloud.client.post(url(server), json={"metadata": {"k": "v"}},
                                 headers=headers(admin=True, project="admin"))
    assert response.status_code == 200 and response.json()["metadata"]["k"] == "v"


def test_reach_and_roles(cloud, server):
    client = cloud.client
    for method, path in (("GET", url(server)), ("POST", url(server)),
                         ("GET", url(server, "a")), ("DELETE", url(server, "a"))):
        response = client.request(method, path, json={"metadata": {"k": "v"}},
                                  headers=headers(project="p2"))
        assert_fault(response, 404, "itemNotFound",
                     f"Instance {server} could not be found.")
    assert client.get(url(server), headers=headers(reader=True)).status_code == 200
    assert_fault(client.post(url(server), json={"metadata": {"k": "v"}},
                             headers=headers(reader=True)), 403, "forbidden")
    gone = boot(cloud)  # without a host, a delete is done at once
    assert client.delete(f"{API}/servers/{gone}", headers=headers()).status_code == 204
    assert_fault(client.get(url(gone), headers=headers()), 404, "itemNotFound")
