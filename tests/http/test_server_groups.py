"""Server groups over HTTP, and server creates with scheduler hints and zones."""

import uuid

import pytest
from litestar.testing import TestClient

from cloud.adapters.eventstore import EventStore
from cloud.http import server_groups as sg_http
from cloud.http.app import create_app
from cloud.http.faults import BadRequest
from cloud.http.microversions import APIVersion
from cloud.projections import projector
from cloud.projections.queries import ReadModels
from cloud.services import catalog

API = "/compute/v2.1"
IMAGE = catalog.DEFAULT_IMAGE_ID
V = "OpenStack-API-Version"
DEMO = {"X-Auth-User": "alice", "X-Auth-Project-Id": "demo", "X-Roles": "member"}
OTHER = {"X-Auth-User": "bob", "X-Auth-Project-Id": "other", "X-Roles": "member"}


@pytest.fixture(scope="module")
def database_url(databases):
    return databases.make()


@pytest.fixture(scope="module")
def store(database_url):
    store = EventStore(database_url)
    yield store
    store.close()


@pytest.fixture(scope="module")
def client(database_url, store):
    read_models = ReadModels(database_url)
    app = create_app(store=store, read_models=read_models)
    with projector.in_background(database_url), TestClient(app) as client:
        yield client
    read_models.close()


def fault(response, status, name):
    assert response.status_code == status, response.text
    body = response.json()
    assert list(body) == [name] and body[name]["code"] == status
    return body[name]["message"]


def make_group(client, name="g", policies=("anti-affinity",), headers=None, version="2.1"):
    response = client.post(f"{API}/os-server-groups", headers={**(headers or {}),
                                                               V: f"compute {version}"},
                           json={"server_group": {"name": name, "policies": list(policies)}})
    assert response.status_code == 200, response.text
    return response.json()["server_group"]


def boot(client, headers=None, hints=None, **fields):
    body = {"server": {"name": "vm", "imageRef": IMAGE, "flavorRef": "1", **fields}}
    if hints is not None:
        body["OS-SCH-HNT:scheduler_hints"] = hints
    return client.post(f"{API}/servers", json=body, headers=headers or {})


def test_create_show_list_delete_at_2_1(client):
    group = make_group(client, "web")
    assert group == {"id": group["id"], "name": "web", "policies": ["anti-affinity"],
                     "metadata": {}, "members": []}
    shown = client.get(f"{API}/os-server-groups/{group['id']}").json()["server_group"]
    assert shown == group
    listed = client.get(f"{API}/os-server-groups").json()["server_groups"]
    assert group in listed
    assert client.delete(f"{API}/os-server-groups/{group['id']}").status_code == 204
    fault(client.get(f"{API}/os-server-groups/{group['id']}"), 404, "itemNotFound")


def test_microversions_gate_fields_and_policies(client):
    at_213 = make_group(client, "v213", version="2.13")
    assert at_213["project_id"] == "admin" and at_213["user_id"] == "admin"
    # Soft policies exist from 2.15.
    fault(client.post(f"{API}/os-server-groups", headers={V: "compute 2.14"}, json={
        "server_group": {"name": "s", "policies": ["soft-affinity"]}}), 400, "badRequest")
    soft = make_group(client, "soft", ("soft-affinity",), version="2.15")
    assert soft["policies"] == ["soft-affinity"]
    # ``policy``/``rules`` are 2.64's: before it they are unknown fields.
    fault(client.post(f"{API}/os-server-groups", json={
        "server_group": {"name": "p", "policy": "affinity"}}), 400, "badRequest")
    fault(client.post(f"{API}/os-server-groups", json={
        "server_group": {"name": "p", "policies": ["affinity", "anti-affinity"]}}),
        400, "badRequest")


def test_2_64_shapes_and_rules():
    v264 = APIVersion(2, 64)
    body = b'{"server_group": {"name": "a", "policy": "anti-affinity",' \
           b' "rules": {"max_server_per_host": 2}}}'
    assert sg_http.parse_create(body, v264) == ("a", "anti-affinity",
                                                {"max_server_per_host": 2})
    # The openstack CLI's `--rule max_server_per_host=2` sends the count as a string.
    assert sg_http.parse_create(body.replace(b"2}", b'"2"}'), v264)[2] == {
        "max_server_per_host": 2}
    for bad in (b'"two"', b'"-2"', b'"2.0"', b'""', b'2.5', b'[2]'):
        with pytest.raises(BadRequest):
            sg_http.parse_create(body.replace(b"2}", bad + b"}"), v264)
    with pytest.raises(BadRequest):
        sg_http.parse_create(b'{"server_group": {"name": "a", "policies": ["affinity"]}}',
                             v264)
    row = {"id": "i", "name": "a", "policy": "anti-affinity",
           "rules": {"max_server_per_host": 2}, "members": [], "project_id": "p",
           "user_id": "u"}
    assert sg_http.group_view(row, v264) == {
        "id": "i", "name": "a", "policy": "anti-affinity",
        "rules": {"max_server_per_host": 2}, "members": [], "project_id": "p",
        "user_id": "u"}
    assert "rules" not in sg_http.group_view(row, APIVersion(2, 63))


def test_projects_see_their_groups_and_admins_all(client):
    mine = make_group(client, "mine", headers=DEMO)
    fault(client.get(f"{API}/os-server-groups/{mine['id']}", headers=OTHER), 404,
          "itemNotFound")
    theirs = client.get(f"{API}/os-server-groups", headers=OTHER).json()["server_groups"]
    assert mine["id"] not in [g["id"] for g in theirs]
    everyone = client.get(f"{API}/os-server-groups?all_projects=True").json()
    assert mine["id"] in [g["id"] for g in everyone["server_groups"]]
    paged = client.get(f"{API}/os-server-groups?all_projects=True&limit=1&offset=1").json()
    assert len(paged["server_groups"]) == 1


def test_servers_created_in_a_group_are_its_members(client, store):
    group = make_group(client, "members", headers=DEMO)
    created = boot(client, DEMO, hints={"group": group["id"], "query": "[\"=\", 1, 1]"})
    assert created.status_code == 202, created.text
    server_id = created.json()["server"]["id"]
    shown = client.get(f"{API}/os-server-groups/{group['id']}", headers=DEMO).json()
    assert shown["server_group"]["members"] == [server_id]
    requested = store.load(uuid.UUID(server_id))[0].data
    assert requested.scheduler_hints == {"group": group["id"], "query": "[\"=\", 1, 1]"}
    # Deleted servers are members no more.
    client.delete(f"{API}/servers/{server_id}", headers=DEMO)
    shown = client.get(f"{API}/os-server-groups/{group['id']}", headers=DEMO).json()
    assert shown["server_group"]["members"] == []


def test_unknown_groups_and_zones_are_refused(client):
    missing = str(uuid.uuid4())
    assert fault(boot(client, hints={"group": missing}), 400,
                 "badRequest") == f"Instance group {missing} could not be found."
    fault(boot(client, hints={"group": "not-a-uuid"}), 400, "badRequest")
    fault(boot(client, hints={"same_host": ["nope"]}), 400, "badRequest")
    other = make_group(client, "other-project", headers=OTHER)
    fault(boot(client, DEMO, hints={"group": other["id"]}), 400, "badRequest")
    assert fault(boot(client, availability_zone="atlantis"), 400, "badRequest") == (
        "The requested availability zone is not available")


def test_quotas_on_groups_and_members(client):
    limits = {"quota_set": {"server_groups": 1, "server_group_members": 1}}
    assert client.put(f"{API}/os-quota-sets/quota", json=limits).status_code == 200
    quota_user = {"X-Auth-User": "q", "X-Auth-Project-Id": "quota", "X-Roles": "member"}
    group = make_group(client, "only", headers=quota_user)
    assert fault(client.post(f"{API}/os-server-groups", headers=quota_user, json={
        "server_group": {"name": "two", "policies": ["affinity"]}}), 403,
        "forbidden") == "Quota exceeded, too many server groups."
    assert boot(client, quota_user, hints={"group": group["id"]}).status_code == 202
    assert fault(boot(client, quota_user, hints={"group": group["id"]}), 403,
                 "forbidden") == "Quota exceeded, too many servers in group"
