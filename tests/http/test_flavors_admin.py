"""The flavor API as admins and projects use it, over HTTP against a real PostgreSQL log and
read models: create/delete/describe, extra specs, private flavors and project access,
list filters, sorting and paging, and the fields each microversion adds."""

import concurrent.futures
import threading
import time
import uuid

import openstack
import pytest
import uvicorn
from litestar.testing import TestClient

from cloud.adapters.embedded import free_port, port_is_open
from cloud.adapters.eventstore import EventStore
from cloud.domain.errors import Duplicate
from cloud.domain.events import FlavorSpec
from cloud.domain.envelope import Context
from cloud.http import microversions
from cloud.http.app import create_app
from cloud.http.context import NoAuth
from cloud.projections import projector
from cloud.projections.queries import ReadModels
from cloud.services import catalog, flavors

API = "/compute/v2.1"
IMAGE = catalog.DEFAULT_IMAGE_ID


@pytest.fixture(scope="module")
def url(databases):
    return databases.make()


@pytest.fixture(scope="module")
def store(url):
    store = EventStore(url)
    yield store
    store.close()


@pytest.fixture(scope="module")
def client(url, store):
    read_models = ReadModels(url)
    app = create_app(store=store, read_models=read_models, authenticator=NoAuth())
    with projector.in_background(url), TestClient(app) as client:
        yield client
    read_models.close()


def needs(version):
    """Skip a test of a microversion above the one served (it runs once it is served)."""
    return pytest.mark.skipif(microversions.MAX_VERSION < microversions.parse(version),
                              reason=f"microversion {version} not served yet")


def headers(version="2.1", *, user="admin", project="admin", roles="admin,member,reader"):
    return {"X-Auth-User": user, "X-Auth-Project-Id": project, "X-Roles": roles,
            "OpenStack-API-Version": f"compute {version}"}


def member(project, version="2.1", roles="member,reader"):
    return headers(version, user=f"user-{project}", project=project, roles=roles)


def unique(prefix="f"):
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def create(client, version="2.1", **fields):
    flavor = {"name": unique(), "ram": 256, "vcpus": 1, "disk": 1, **fields}
    response = client.post(f"{API}/flavors", json={"flavor": flavor},
                           headers=headers(version))
    assert response.status_code == 200, response.text
    return response.json()["flavor"]


def assert_fault(response, status, message=None):
    assert response.status_code == status, response.text
    (body,) = response.json().values()
    assert body["code"] == status
    if message is not None:
        assert body["message"] == message


def ids(response):
    assert response.status_code == 200, response.text
    return [flavor["id"] for flavor in response.json()["flavors"]]


# --- create, show, delete --------------------------------------------------------------


def test_create_answers_the_flavor_as_shown_after(client):
    flavor = create(client, id="custom-1", swap=512, rxtx_factor="2.5",
                    **{"OS-FLV-EXT-DATA:ephemeral": "3", "os-flavor-access:is_public": "yes"})
    assert {k: v for k, v in flavor.items() if k != "links"} == {
        "id": "custom-1", "name": flavor["name"], "ram": 256, "vcpus": 1, "disk": 1,
        "swap": 512, "OS-FLV-EXT-DATA:ephemeral": 3, "OS-FLV-DISABLED:disabled": False,
        "os-flavor-access:is_public": True, "rxtx_factor": 2.5}
    assert client.get(f"{API}/flavors/custom-1").json()["flavor"] == flavor
    assert "custom-1" in ids(client.get(f"{API}/flavors"))


@pytest.mark.parametrize("given", [{}, {"id": None}, {"id": "auto"}])
def test_without_an_id_the_flavor_gets_a_uuid(client, given):
    flavor = create(client, **given)
    assert str(uuid.UUID(flavor["id"])) == flavor["id"]
    assert flavor["swap"] == "" and flavor["rxtx_factor"] == 1.0


def test_a_numeric_id_is_kept_as_a_string(client):
    number = int(time.time() * 1000) % 10**9 + 1000
    assert create(client, id=number)["id"] == str(number)


def test_names_and_ids_are_unique(client):
    first = create(client)
    again = {"name": first["name"], "ram": 1, "vcpus": 1, "disk": 0}
    assert_fault(client.post(f"{API}/flavors", json={"flavor": again}, headers=headers()),
                 409, f"Flavor with name {first['name']} already exists.")
    same_id = {"name": unique(), "ram": 1, "vcpus": 1, "disk": 0, "id": first["id"]}
    assert_fault(client.post(f"{API}/flavors", json={"flavor": same_id}, headers=headers()),
                 409, f"Flavor with ID {first['id']} already exists.")


def test_racing_creates_of_one_name_leave_exactly_one_flavor(client, store):
    name = unique("race")

    def attempt(index):
        spec = FlavorSpec(flavorid=f"{name}-{index}", name=name, vcpus=1, ram=64, disk=0)
        try:
            flavors.create(store, spec, context=Context(timestamp="2024-01-01T00:00:00+00:00"))
        except Duplicate as error:
            return str(error)
        return "created"
    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        outcomes = list(pool.map(attempt, range(6)))
    assert outcomes.count("created") == 1
    assert set(outcomes) - {"created"} == {f"Flavor with name {name} already exists."}


INVALID = [
    ({"name": ""}, "Invalid input for field/attribute name. Value: . '' is too short"),
    ({"name": " lead"}, "An invalid 'name' value was provided. The name must be: printable"
                        " characters. Can not start or end with whitespace."),
    ({"name": "x" * 256}, None),
    ({"name": "tab\there"}, None),
    ({"ram": 0}, "Invalid input for field/attribute ram. Value: 0. 0 is less than the"
                 " minimum of 1"),
    ({"ram": "lots"}, "Invalid input for field/attribute ram. Value: lots. 'lots' does not"
                      " match '^[0-9]+$'"),
    ({"vcpus": -1}, None),
    ({"vcpus": 1.5}, None),
    ({"disk": 2**31}, "Invalid input for field/attribute disk. Value: 2147483648."
                      " 2147483648 is greater than the maximum of 2147483647"),
    ({"swap": -1}, None),
    ({"OS-FLV-EXT-DATA:ephemeral": "-1"}, None),
    ({"rxtx_factor": 0}, None),
    ({"os-flavor-access:is_public": "maybe"}, None),
    ({"id": " padded"}, None),
    ({"id": "no/slash"}, None),
    ({"id": True}, None),
    ({"description": "only from 2.55"}, "Invalid input for field/attribute flavor. Value:"
     " {'name': 'bad', 'ram': 1, 'vcpus': 1, 'disk': 1, 'description': 'only from 2.55'}."
     " Additional properties are not allowed ('description' was unexpected)"),
]


@pytest.mark.parametrize(("fields", "message"), INVALID)
def test_invalid_flavors_are_refused_and_nothing_is_recorded(client, store, fields, message):
    head = store.head()
    flavor = {"name": "bad", "ram": 1, "vcpus": 1, "disk": 1, **fields}
    response = client.post(f"{API}/flavors", json={"flavor": flavor}, headers=headers())
    assert_fault(response, 400, message)
    assert store.head() == head


@pytest.mark.parametrize("body", [b"{}", b'{"flavor": {"name": "x", "ram": 1, "vcpus": 1}}',
                                  b"[]", b"not json", b'{"flavor": 1}'])
def test_malformed_create_bodies_are_400(client, body):
    assert_fault(client.post(f"{API}/flavors", content=body, headers=headers()), 400)


def test_only_admins_manage_flavors(client):
    flavor = {"name": unique(), "ram": 1, "vcpus": 1, "disk": 1}
    assert_fault(client.post(f"{API}/flavors", json={"flavor": flavor},
                             headers=member("p1")), 403,
                 "Policy doesn't allow os_compute_api:os-flavor-manage:create to be performed.")
    assert_fault(client.delete(f"{API}/flavors/1", headers=member("p1")), 403)


def test_a_deleted_flavor_is_gone_and_its_id_and_name_free_again(client):
    flavor = create(client)
    response = client.delete(f"{API}/flavors/{flavor['id']}", headers=headers())
    assert response.status_code == 202 and response.content == b""
    assert_fault(client.get(f"{API}/flavors/{flavor['id']}"), 404,
                 f"Flavor {flavor['id']} could not be found.")
    assert flavor["id"] not in ids(client.get(f"{API}/flavors/detail",
                                              params={"is_public": "none"}))
    assert_fault(client.delete(f"{API}/flavors/{flavor['id']}", headers=headers()), 404)
    again = create(client, id=flavor["id"], name=flavor["name"], ram=1024)
    assert again["ram"] == 1024


def test_update_is_not_there_before_2_55(client):
    response = client.put(f"{API}/flavors/1", json={"flavor": {"description": "x"}},
                          headers=headers("2.25"))
    assert_fault(response, 404)


@pytest.mark.parametrize("version", ["2.1", "2.25"])
def test_no_description_or_extra_specs_before_their_versions(client, version):
    flavor = create(client, version)
    assert "description" not in flavor and "extra_specs" not in flavor
    shown = client.get(f"{API}/flavors/{flavor['id']}", headers=headers(version))
    assert "description" not in shown.json()["flavor"]
    listed = client.get(f"{API}/flavors", headers=headers(version)).json()["flavors"]
    assert all(set(item) == {"id", "name", "links"} for item in listed)


# --- extra specs ----------------------------------------------------------------------


def test_extra_specs_are_set_read_changed_and_deleted(client):
    flavor_id = create(client)["id"]
    specs = f"{API}/flavors/{flavor_id}/os-extra_specs"
    response = client.post(specs, json={"extra_specs": {"hw:cpu_policy": "dedicated",
                                                        "quota:vif": 10}}, headers=headers())
    assert response.status_code == 200, response.text
    assert response.json() == {"extra_specs": {"hw:cpu_policy": "dedicated", "quota:vif": "10"}}
    reader = member("p-reader", roles="reader")
    assert client.get(specs, headers=reader).json() == {
        "extra_specs": {"hw:cpu_policy": "dedicated", "quota:vif": "10"}}
    response = client.put(f"{specs}/quota:vif", json={"quota:vif": "20"}, headers=headers())
    assert response.status_code == 200 and response.json() == {"quota:vif": "20"}
    assert client.get(f"{specs}/quota:vif", headers=reader).json() == {"quota:vif": "20"}
    response = client.delete(f"{specs}/hw:cpu_policy", headers=headers())
    assert response.status_code == 200 and response.content == b""
    assert client.get(specs).json() == {"extra_specs": {"quota:vif": "20"}}
    assert_fault(client.get(f"{specs}/hw:cpu_policy"), 404,
                 f"Flavor {flavor_id} has no extra specs with key hw:cpu_policy.")
    assert_fault(client.delete(f"{specs}/hw:cpu_policy", headers=headers()), 404)


@pytest.mark.parametrize("body", [{"other": "1"}, {"k": "1", "other": "2"}, {}, ["k"]])
def test_an_extra_spec_put_names_exactly_its_key(client, body):
    flavor_id = create(client)["id"]
    response = client.put(f"{API}/flavors/{flavor_id}/os-extra_specs/k", json=body,
                          headers=headers())
    assert_fault(response, 400)
    if body == {"other": "1"}:
        assert response.json()["badRequest"]["message"] == "Request body and URI mismatch"


@pytest.mark.parametrize("body", [{"extra_specs": {"bad/key": "1"}},
                                  {"extra_specs": {"k": "x" * 256}},
                                  {"extra_specs": {"k": None}}, {"extra_specs": []},
                                  {"specs": {}}])
def test_invalid_extra_specs_are_400(client, body):
    flavor_id = create(client)["id"]
    assert_fault(client.post(f"{API}/flavors/{flavor_id}/os-extra_specs", json=body,
                             headers=headers()), 400)


def test_only_admins_write_extra_specs_and_unknown_flavors_are_404(client):
    flavor_id = create(client)["id"]
    specs = f"{API}/flavors/{flavor_id}/os-extra_specs"
    for response in (client.post(specs, json={"extra_specs": {"k": "v"}},
                                 headers=member("p1")),
                     client.put(f"{specs}/k", json={"k": "v"}, headers=member("p1")),
                     client.delete(f"{specs}/k", headers=member("p1"))):
        assert_fault(response, 403)
    assert_fault(client.get(f"{API}/flavors/nope/os-extra_specs"), 404,
                 "Flavor nope could not be found.")
    assert_fault(client.post(f"{API}/flavors/nope/os-extra_specs",
                             json={"extra_specs": {"k": "v"}}, headers=headers()), 404)


# --- private flavors and access -------------------------------------------------------


def _action(client, flavor_id, action, tenant, version="2.1"):
    return client.post(f"{API}/flavors/{flavor_id}/action",
                       json={action: {"tenant": tenant}}, headers=headers(version))


def test_a_private_flavor_is_seen_and_used_only_with_access(client):
    private = create(client, **{"os-flavor-access:is_public": False})["id"]
    outsider = member(unique("proj"))
    assert private not in ids(client.get(f"{API}/flavors", headers=outsider))
    assert private not in ids(client.get(f"{API}/flavors/detail",
                                         params={"is_public": "false"}, headers=outsider))
    assert_fault(client.get(f"{API}/flavors/{private}", headers=outsider), 404)
    server = {"server": {"name": "s", "imageRef": IMAGE, "flavorRef": private}}
    assert_fault(client.post(f"{API}/servers", json=server, headers=outsider), 400,
                 f"Flavor {private} could not be found.")
    project = outsider["X-Auth-Project-Id"]
    response = _action(client, private, "addTenantAccess", project)
    assert response.status_code == 200, response.text
    assert response.json() == {"flavor_access": [{"flavor_id": private, "tenant_id": project}]}
    assert private in ids(client.get(f"{API}/flavors", headers=outsider))
    assert client.get(f"{API}/flavors/{private}", headers=outsider).status_code == 200
    assert client.post(f"{API}/servers", json=server, headers=outsider).status_code == 202
    _action(client, private, "removeTenantAccess", project)
    assert private not in ids(client.get(f"{API}/flavors", headers=outsider))


def test_admins_filter_by_visibility(client):
    private = create(client, **{"os-flavor-access:is_public": False})["id"]
    public = create(client)["id"]
    default = ids(client.get(f"{API}/flavors", headers=headers()))
    assert public in default and private not in default
    only_private = ids(client.get(f"{API}/flavors", params={"is_public": "false"},
                                  headers=headers()))
    assert private in only_private and public not in only_private
    for everything in ("none", "None"):
        assert {public, private} <= set(ids(client.get(
            f"{API}/flavors", params={"is_public": everything}, headers=headers())))
    assert client.get(f"{API}/flavors/{private}", headers=headers()).status_code == 200
    assert_fault(client.get(f"{API}/flavors", params={"is_public": "maybe"},
                            headers=headers()), 400, "Invalid is_public filter [maybe]")


def test_the_access_list_and_its_refusals(client):
    private = create(client, **{"os-flavor-access:is_public": False})["id"]
    access = f"{API}/flavors/{private}/os-flavor-access"
    assert client.get(access, headers=headers()).json() == {"flavor_access": []}
    assert _action(client, private, "addTenantAccess", "p-b").status_code == 200
    assert _action(client, private, "addTenantAccess", "p-a").status_code == 200
    assert client.get(access, headers=headers()).json()["flavor_access"] == [
        {"flavor_id": private, "tenant_id": "p-a"}, {"flavor_id": private, "tenant_id": "p-b"}]
    assert_fault(_action(client, private, "addTenantAccess", "p-a"), 409,
                 f"Flavor access already exists for flavor {private} and project p-a"
                 " combination.")
    assert _action(client, private, "removeTenantAccess", "p-a").status_code == 200
    assert_fault(_action(client, private, "removeTenantAccess", "p-a"), 404,
                 f"Flavor access not found for {private} / p-a combination.")
    assert_fault(client.get(access, headers=member("p-b")), 403)
    assert_fault(client.get(f"{API}/flavors/1/os-flavor-access", headers=headers()), 404,
                 "Access list not available for public flavors.")
    assert_fault(client.get(f"{API}/flavors/nope/os-flavor-access", headers=headers()), 404)


def test_adding_access_to_a_public_flavor_is_refused_from_2_7(client):
    public = create(client)["id"]
    assert_fault(_action(client, public, "addTenantAccess", "p-x", "2.7"), 409,
                 "Can not add access to a public flavor.")
    assert _action(client, public, "addTenantAccess", "p-x", "2.6").status_code == 200


@pytest.mark.parametrize(("body", "message"), [
    ({"shareWith": {"tenant": "p"}}, "There is no such action: shareWith"),
    ({"addTenantAccess": {}}, None),
    ({"addTenantAccess": {"tenant": ""}}, None),
    ({"addTenantAccess": {"tenant": "p"}, "removeTenantAccess": {"tenant": "p"}},
     "Malformed request body: too many body keys"),
])
def test_bad_actions_are_400(client, body, message):
    flavor_id = create(client, **{"os-flavor-access:is_public": False})["id"]
    assert_fault(client.post(f"{API}/flavors/{flavor_id}/action", json=body,
                             headers=headers()), 400, message)


def test_only_admins_change_access(client):
    private = create(client, **{"os-flavor-access:is_public": False})["id"]
    response = client.post(f"{API}/flavors/{private}/action",
                           json={"addTenantAccess": {"tenant": "p1"}}, headers=member("p1"))
    assert_fault(response, 403)


# --- listing --------------------------------------------------------------------------


def test_min_filters_sorting_and_paging(client):
    tag = unique("list")
    for index, (ram, disk) in enumerate([(700001, 5), (700003, 50), (700002, 500)]):
        create(client, id=f"{tag}-{index}", name=f"{tag}-{index}", ram=ram, disk=disk)
    query = {"minRam": 700000, "sort_key": "memory_mb", "sort_dir": "desc"}
    assert ids(client.get(f"{API}/flavors", params=query)) == [f"{tag}-1", f"{tag}-2",
                                                              f"{tag}-0"]
    assert ids(client.get(f"{API}/flavors", params={**query, "minDisk": 50})) == [
        f"{tag}-1", f"{tag}-2"]
    first = client.get(f"{API}/flavors/detail", params={**query, "limit": 2}).json()
    assert [f["id"] for f in first["flavors"]] == [f"{tag}-1", f"{tag}-2"]
    (link,) = first["flavors_links"]
    assert link["rel"] == "next" and f"marker={tag}-2" in link["href"]
    assert "/flavors/detail?" in link["href"]
    rest = client.get(f"{API}/flavors", params={**query, "marker": f"{tag}-2"})
    assert ids(rest) == [f"{tag}-0"] and "flavors_links" not in rest.json()
    by_name = ids(client.get(f"{API}/flavors", params={"minRam": 700000, "sort_key": "name"}))
    assert by_name == [f"{tag}-0", f"{tag}-1", f"{tag}-2"]


@pytest.mark.parametrize("params", [{"sort_key": "colour"}, {"sort_dir": "up"},
                                    {"marker": "no-such-flavor"}, {"minDisk": "x"},
                                    {"limit": "-1"}])
def test_bad_list_parameters_are_400(client, params):
    assert_fault(client.get(f"{API}/flavors", params=params), 400)


def test_a_private_flavor_is_no_marker_for_a_project_without_access(client):
    private = create(client, **{"os-flavor-access:is_public": False})["id"]
    assert_fault(client.get(f"{API}/flavors", params={"marker": private},
                            headers=member("p-none")), 400, f"marker [{private}] not found")


# --- servers keep their flavor --------------------------------------------------------


def _server_from_flavor(client, version):
    flavor = create(client, ram=64)
    specs = f"{API}/flavors/{flavor['id']}/os-extra_specs"
    client.post(specs, json={"extra_specs": {"hw:watchdog_action": "reset"}}, headers=headers())
    body = {"server": {"name": "keeper", "imageRef": IMAGE, "flavorRef": flavor["id"]}}
    if tuple(map(int, version.split("."))) >= (2, 37):
        body["server"]["networks"] = "none"  # required from 2.37
    response = client.post(f"{API}/servers", json=body, headers=headers(version))
    assert response.status_code == 202, response.text
    server_id = response.json()["server"]["id"]
    assert client.delete(f"{API}/flavors/{flavor['id']}", headers=headers()).status_code == 202
    shown = client.get(f"{API}/servers/{server_id}", headers=headers(version))
    assert shown.status_code == 200, shown.text
    return flavor, shown.json()["server"]["flavor"]


def test_a_server_still_shows_its_flavor_after_the_flavor_is_deleted(client):
    flavor, shown = _server_from_flavor(client, "2.1")
    assert shown["id"] == flavor["id"]
    assert shown["links"][0]["href"].endswith(f"/compute/flavors/{flavor['id']}")


@needs("2.47")
def test_from_2_47_a_server_shows_its_copy_of_the_flavor(client):
    flavor, shown = _server_from_flavor(client, "2.47")
    assert shown == {"vcpus": 1, "ram": 64, "disk": 1, "ephemeral": 0, "swap": 0,
                     "original_name": flavor["name"],
                     "extra_specs": {"hw:watchdog_action": "reset"}}


# --- microversions above the one served now -------------------------------------------


@needs("2.55")
def test_descriptions_from_2_55(client):
    flavor = create(client, "2.55", description="for tests")
    assert flavor["description"] == "for tests" and "extra_specs" not in flavor
    path = f"{API}/flavors/{flavor['id']}"
    response = client.put(path, json={"flavor": {"description": "changed"}},
                          headers=headers("2.55"))
    assert response.status_code == 200 and response.json()["flavor"]["description"] == "changed"
    listed = client.get(f"{API}/flavors", headers=headers("2.55")).json()["flavors"]
    assert next(f for f in listed if f["id"] == flavor["id"])["description"] == "changed"
    assert client.get(f"{API}/flavors/1", headers=headers("2.55")).json()[
        "flavor"]["description"] is None
    assert_fault(client.put(path, json={"flavor": {"name": "x"}}, headers=headers("2.55")), 400)
    assert_fault(client.put(path, json={"flavor": {"description": "x"}},
                            headers=member("p1", "2.55")), 403)
    assert_fault(client.put(f"{API}/flavors/nope", json={"flavor": {"description": None}},
                            headers=headers("2.55")), 404)


@needs("2.61")
def test_extra_specs_in_flavor_bodies_from_2_61(client):
    flavor = create(client, "2.61")
    assert flavor["extra_specs"] == {}
    client.post(f"{API}/flavors/{flavor['id']}/os-extra_specs",
                json={"extra_specs": {"hw:cpu": "1"}}, headers=headers())
    shown = client.get(f"{API}/flavors/{flavor['id']}", headers=headers("2.61")).json()
    assert shown["flavor"]["extra_specs"] == {"hw:cpu": "1"}
    detail = client.get(f"{API}/flavors/detail", headers=headers("2.61")).json()["flavors"]
    assert next(f for f in detail if f["id"] == flavor["id"])["extra_specs"] == {"hw:cpu": "1"}
    assert "extra_specs" not in client.get(f"{API}/flavors/{flavor['id']}",
                                           headers=headers("2.60")).json()["flavor"]


# --- openstacksdk, unchanged ----------------------------------------------------------


@pytest.fixture(scope="module")
def conn(url, store):
    read_models = ReadModels(url)
    port = free_port()
    app = create_app(store=store, read_models=read_models,
                     public_url=f"http://127.0.0.1:{port}", authenticator=NoAuth())
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port,
                                           log_level="warning"))
    serving = threading.Thread(target=server.run, daemon=True)
    with projector.in_background(url):
        serving.start()
        deadline = time.monotonic() + 10
        while not port_is_open("127.0.0.1", port) and time.monotonic() < deadline:
            time.sleep(0.05)
        endpoint = f"http://127.0.0.1:{port}/compute/v2.1"
        yield openstack.connect(auth_type="none", auth={"endpoint": endpoint},
                                compute_endpoint_override=endpoint)
        server.should_exit = True
        serving.join(timeout=10)
    read_models.close()


def test_openstack_sdk_creates_a_flavor_with_properties_and_access(conn):
    # What ``openstack flavor create --ram 512 --disk 1 --vcpus 1 f1 --property hw:cpu=1
    # --private --project p-sdk`` does, through the same SDK calls.
    name = unique("sdk")
    flavor = conn.compute.create_flavor(name=name, ram=512, vcpus=1, disk=1, id=None,
                                        ephemeral=0, swap=0, is_public=False)
    assert flavor.name == name and flavor.ram == 512 and flavor.is_public is False
    conn.compute.flavor_add_tenant_access(flavor.id, "p-sdk")
    flavor = conn.compute.create_flavor_extra_specs(flavor, {"hw:cpu": "1"})
    assert flavor.extra_specs == {"hw:cpu": "1"}
    assert conn.compute.get_flavor_access(flavor.id) == [
        {"flavor_id": flavor.id, "tenant_id": "p-sdk"}]
    found = conn.compute.find_flavor(name, get_extra_specs=True)
    assert found.id == flavor.id and found.extra_specs == {"hw:cpu": "1"}
    conn.compute.update_flavor_extra_specs_property(flavor, "hw:cpu", "2")
    assert conn.compute.get_flavor_extra_specs_property(flavor, "hw:cpu") == "2"
    conn.compute.delete_flavor_extra_specs_property(flavor, "hw:cpu")
    conn.compute.flavor_remove_tenant_access(flavor.id, "p-sdk")
    conn.compute.delete_flavor(flavor.id, ignore_missing=False)
    assert conn.compute.find_flavor(name) is None
