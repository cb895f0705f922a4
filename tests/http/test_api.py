"""The compute API over HTTP, against a real PostgreSQL event log and read models."""

import re
import uuid

import pytest
from litestar.testing import TestClient

from cloud.adapters.eventstore import EventStore
from cloud.http import microversions
from cloud.http.app import create_app
from cloud.projections import projector
from cloud.projections.queries import ReadModels
from cloud.services import catalog

PUBLIC_URL = "http://cloud.test:8774"
API = "/compute/v2.1"
IMAGE = catalog.DEFAULT_IMAGE_ID
PUBLIC_KEY = ("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJ//fUbguOmPyHCrIfQKTnwfWriT5iifiUZjrSLZ"
              "B0Ga test@cloud")
MAX = str(microversions.MAX_VERSION)
REQUEST_ID = re.compile(r"^req-[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[0-9a-f]{4}-[0-9a-f]{12}$")


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
    app = create_app(store=store, read_models=read_models, public_url=PUBLIC_URL)
    with projector.in_background(database_url), TestClient(app) as client:
        # These tests create many servers in one project: quotas are tested elsewhere.
        unlimited = {"quota_set": {"instances": -1, "cores": -1, "ram": -1}}
        assert client.put(f"{API}/os-quota-sets/admin", json=unlimited).status_code == 200
        yield client
    read_models.close()


def create(client, name, **fields):
    body = {"server": {"name": name, "imageRef": IMAGE, "flavorRef": "1", **fields}}
    response = client.post(f"{API}/servers", json=body)
    assert response.status_code == 202, response.text
    return response


def assert_fault(response, status, name, message=None):
    assert response.status_code == status, response.text
    body = response.json()
    assert list(body) == [name]
    assert body[name]["code"] == status
    if message is not None:
        assert body[name]["message"] == message


# --- version discovery ----------------------------------------------------------------


@pytest.mark.parametrize("path", ["/compute", "/compute/"])
def test_version_list(client, path):
    response = client.get(path)
    assert response.status_code == 200
    v20, v21 = response.json()["versions"]
    assert v20["id"] == "v2.0" and v20["status"] == "DEPRECATED"
    assert v21 == {"id": "v2.1", "status": "CURRENT", "version": MAX, "min_version": "2.1",
                   "updated": "2013-07-23T11:33:21Z",
                   "links": [{"rel": "self", "href": f"{PUBLIC_URL}/compute/v2.1/"}]}


@pytest.mark.parametrize("path", [API, API + "/"])
def test_v21_document(client, path):
    response = client.get(path)
    assert response.status_code == 200
    version = response.json()["version"]
    assert version["id"] == "v2.1" and version["version"] == MAX
    assert version["links"] == [{"rel": "self", "href": f"{PUBLIC_URL}/compute/v2.1/"}]
    assert version["media-types"] == [
        {"base": "application/json",
         "type": "application/vnd.openstack.compute+json;version=2.1"}]


# --- flavors --------------------------------------------------------------------------


def test_flavor_list(client):
    flavors = client.get(f"{API}/flavors").json()["flavors"]
    tiny = next(flavor for flavor in flavors if flavor["id"] == "1")
    assert tiny == {"id": "1", "name": "m1.tiny", "links": [
        {"rel": "self", "href": f"{PUBLIC_URL}/compute/v2.1/flavors/1"},
        {"rel": "bookmark", "href": f"{PUBLIC_URL}/compute/flavors/1"}]}
    assert {flavor["id"] for flavor in flavors} == {"1", "2", "3", "4", "42", "84"}


def test_flavor_detail_and_show(client):
    detail = client.get(f"{API}/flavors/detail").json()["flavors"]
    shown = client.get(f"{API}/flavors/1").json()["flavor"]
    assert shown == next(flavor for flavor in detail if flavor["id"] == "1")
    assert shown == {
        "id": "1", "name": "m1.tiny", "ram": 512, "vcpus": 1, "disk": 1, "swap": "",
        "OS-FLV-EXT-DATA:ephemeral": 0, "OS-FLV-DISABLED:disabled": False,
        "os-flavor-access:is_public": True, "rxtx_factor": 1.0,
        "links": [{"rel": "self", "href": f"{PUBLIC_URL}/compute/v2.1/flavors/1"},
                  {"rel": "bookmark", "href": f"{PUBLIC_URL}/compute/flavors/1"}]}


def test_flavor_not_found(client):
    assert_fault(client.get(f"{API}/flavors/nope"), 404, "itemNotFound",
                 "Flavor nope could not be found.")


def test_flavor_filters_and_paging(client):
    big = client.get(f"{API}/flavors/detail", params={"minRam": 4096}).json()["flavors"]
    assert {flavor["id"] for flavor in big} == {"3", "4"}
    first = client.get(f"{API}/flavors", params={"limit": 2}).json()
    assert [flavor["id"] for flavor in first["flavors"]] == ["1", "2"]
    next_href = first["flavors_links"][0]["href"]
    assert next_href.startswith(f"{PUBLIC_URL}/compute/v2.1/flavors?")
    assert "marker=2" in next_href
    rest = client.get(f"{API}/flavors", params={"marker": "2"}).json()["flavors"]
    assert [flavor["id"] for flavor in rest] == ["3", "4", "42", "84"]
    assert_fault(client.get(f"{API}/flavors", params={"minRam": "x"}), 400, "badRequest")
    assert_fault(client.get(f"{API}/flavors", params={"marker": "zz"}), 400, "badRequest",
                 "marker [zz] not found")


# --- servers: create and show ---------------------------------------------------------


def test_create_then_show_build(client, store):
    head = store.head()
    keypair = {"keypair": {"name": "mykey", "public_key": PUBLIC_KEY}}
    assert client.post(f"{API}/os-keypairs", json=keypair).status_code == 200
    response = create(client, "web-1", metadata={"role": "web"}, key_name="mykey",
                      networks=[], security_groups=[{"name": "default"}])
    server = response.json()["server"]
    server_id = server["id"]
    assert uuid.UUID(server_id)
    assert response.headers["location"] == f"{PUBLIC_URL}/compute/v2.1/servers/{server_id}"
    assert server["links"] == [
        {"rel": "self", "href": f"{PUBLIC_URL}/compute/v2.1/servers/{server_id}"},
        {"rel": "bookmark", "href": f"{PUBLIC_URL}/compute/servers/{server_id}"}]
    assert server["OS-DCF:diskConfig"] == "MANUAL"
    assert server["security_groups"] == [{"name": "default"}]
    assert len(server["adminPass"]) == 12
    assert store.head() > head

    shown = client.get(f"{API}/servers/{server_id}").json()["server"]
    assert shown["status"] == "BUILD" and shown["progress"] == 0
    assert shown["name"] == "web-1" and shown["metadata"] == {"role": "web"}
    assert shown["tenant_id"] == "admin" and shown["user_id"] == "admin"
    assert shown["image"] == {"id": IMAGE, "links": [
        {"rel": "bookmark", "href": f"{PUBLIC_URL}/compute/images/{IMAGE}"}]}
    assert shown["flavor"] == {"id": "1", "links": [
        {"rel": "bookmark", "href": f"{PUBLIC_URL}/compute/flavors/1"}]}
    assert shown["OS-EXT-STS:vm_state"] == "building"
    assert shown["OS-EXT-STS:task_state"] == "scheduling"
    assert shown["OS-EXT-STS:power_state"] == 0
    assert shown["hostId"] == "" and shown["OS-EXT-SRV-ATTR:host"] is None
    assert shown["OS-EXT-SRV-ATTR:instance_name"] == "instance-" + server_id[:8]
    assert shown["key_name"] == "mykey" and shown["OS-EXT-AZ:availability_zone"] == "nova"
    assert shown["OS-SRV-USG:launched_at"] is None and "fault" not in shown
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", shown["created"])
    assert shown["addresses"] == {} and shown["os-extended-volumes:volumes_attached"] == []


def test_create_records_the_request_id_and_actor(client, store):
    response = create(client, "audited")
    server_id = response.json()["server"]["id"]
    recorded = store.load(uuid.UUID(server_id))[0]
    assert recorded.request_id == response.headers["x-openstack-request-id"]
    assert recorded.actor.project_id == "admin" and recorded.actor.user_id == "admin"


def test_create_accepts_openstackclient_body(client):
    create(client, "from-osc", flavorRef=1, min_count=1, max_count="1",
           block_device_mapping_v2=[{"uuid": IMAGE, "boot_index": 0, "source_type": "image",
                                     "destination_type": "local",
                                     "delete_on_termination": True}])
    body = {"server": {"name": "hinted", "imageRef": IMAGE,
                       "flavorRef": f"{PUBLIC_URL}/compute/flavors/2"},
            "OS-SCH-HNT:scheduler_hints": {"build_near_host_ip": "10.0.0.1"}}
    assert client.post(f"{API}/servers", json=body).status_code == 202


@pytest.mark.parametrize("body", [
    b"{not json",
    b"",
    b'{"server": {"imageRef": "' + IMAGE.encode() + b'", "flavorRef": "1"}}',
    b'{"server": {"name": "", "imageRef": "' + IMAGE.encode() + b'", "flavorRef": "1"}}',
    b'{"server": {"name": "x", "flavorRef": "1"}}',
    b'{"server": {"name": "x", "imageRef": "not-a-uuid", "flavorRef": "1"}}',
    b'{"server": {"name": "x", "imageRef": "' + IMAGE.encode() + b'", "flavorRef": "1",'
    b' "bogus": 1}}',
    b'{"server": {"name": "x", "imageRef": "' + IMAGE.encode() + b'", "flavorRef": "1",'
    b' "min_count": 3, "max_count": 2}}',
    b'{"server": {"name": "x", "imageRef": "' + IMAGE.encode() + b'", "flavorRef": "1",'
    b' "metadata": {"a": 1}}}',
    b'[1, 2]',
])
def test_bad_create_body_is_400_and_records_nothing(client, store, body):
    head = store.head()
    response = client.post(f"{API}/servers", content=body,
                           headers={"Content-Type": "application/json"})
    assert_fault(response, 400, "badRequest")
    assert response.json()["badRequest"]["message"]
    assert store.head() == head



NAMED = {"name": "x", "imageRef": IMAGE, "flavorRef": "1"}
INVALID_NAME = ("An invalid 'name' value was provided. The name must be: printable"
                " characters. Can not start or end with whitespace.")


@pytest.mark.parametrize(("server", "message"), [
    ({**NAMED, "name": "a" * 256}, f"Invalid input for field/attribute name. Value:"
     f" {'a' * 256}. '{'a' * 256}' is too long"),
    ({**NAMED, "name": ""}, "Invalid input for field/attribute name. Value: . '' is too short"),
    ({**NAMED, "name": "   "}, INVALID_NAME),
    ({**NAMED, "name": " padded "}, INVALID_NAME),
    ({**NAMED, "name": 7}, "Invalid input for field/attribute name. Value: 7. 7 is not of"
     " type 'string'"),
    ({**NAMED, "foo": 1}, f"Invalid input for field/attribute server. Value: {{'name': 'x',"
     f" 'imageRef': '{IMAGE}', 'flavorRef': '1', 'foo': 1}}. Additional properties are not"
     " allowed ('foo' was unexpected)"),
    ({"name": "x", "imageRef": IMAGE}, f"Invalid input for field/attribute server. Value:"
     f" {{'name': 'x', 'imageRef': '{IMAGE}'}}. 'flavorRef' is a required property"),
    ({**NAMED, "min_count": "x"}, "Invalid input for field/attribute min_count. Value: x."
     " 'x' does not match '^[0-9]*$'"),
    ({**NAMED, "min_count": 1.5}, "Invalid input for field/attribute min_count. Value:"
     " 1.5. 1.5 is not of type 'integer', 'string'"),
    ({**NAMED, "max_count": 0}, "Invalid input for field/attribute max_count. Value: 0."
     " 0 is less than the minimum of 1"),
    ({**NAMED, "OS-DCF:diskConfig": "x"}, "Invalid input for field/attribute"
     " OS-DCF:diskConfig. Value: x. 'x' is not one of ['AUTO', 'MANUAL']"),
    # Whole bodies (no "name" key): outside the server, Nova gives the bare reason.
    ({"server": NAMED, "foo": 1}, "Additional properties are not allowed ('foo' was"
     " unexpected)"),
    ({}, "'server' is a required property"),
])
def test_create_body_errors_are_worded_as_novas(client, store, server, message):
    head = store.head()
    body = server if "name" not in server else {"server": server}
    assert_fault(client.post(f"{API}/servers", json=body), 400, "badRequest", message)
    assert store.head() == head

def test_unknown_flavor_or_image_is_400_and_records_nothing(client, store):
    head = store.head()
    body = {"server": {"name": "x", "imageRef": IMAGE, "flavorRef": "999"}}
    assert_fault(client.post(f"{API}/servers", json=body), 400, "badRequest",
                 "Flavor 999 could not be found.")
    missing = str(uuid.uuid4())
    body = {"server": {"name": "x", "imageRef": missing, "flavorRef": "1"}}
    assert_fault(client.post(f"{API}/servers", json=body), 400, "badRequest",
                 f"Image {missing} could not be found.")
    assert store.head() == head


def test_show_by_name_is_404(client):
    create(client, "named-lookup")
    assert_fault(client.get(f"{API}/servers/named-lookup"), 404, "itemNotFound",
                 "Instance named-lookup could not be found.")
    unknown = str(uuid.uuid4())
    assert_fault(client.get(f"{API}/servers/{unknown}"), 404, "itemNotFound",
                 f"Instance {unknown} could not be found.")


# --- servers: list --------------------------------------------------------------------


def test_list_detail_and_name_filter(client):
    ids = [create(client, f"list-me-{n}").json()["server"]["id"] for n in range(3)]
    create(client, "other-list")
    listed = client.get(f"{API}/servers").json()
    assert "servers_links" not in listed
    assert {"id", "name", "links"} == set(listed["servers"][0])
    found = client.get(f"{API}/servers", params={"name": "^list-me-"}).json()["servers"]
    assert [server["id"] for server in found] == ids[::-1]
    detail = client.get(f"{API}/servers/detail", params={"name": "list-me-1"}).json()
    assert [server["id"] for server in detail["servers"]] == [ids[1]]
    assert detail["servers"][0]["status"] == "BUILD"
    assert_fault(client.get(f"{API}/servers", params={"name": "("}), 400, "badRequest")


def test_paging_with_marker(client):
    ids = [create(client, f"page-{n}").json()["server"]["id"] for n in range(3)]
    newest_first = ids[::-1]
    first = client.get(f"{API}/servers", params={"name": "^page-", "limit": 2}).json()
    assert [server["id"] for server in first["servers"]] == newest_first[:2]
    (link,) = first["servers_links"]
    assert link["rel"] == "next" and f"marker={newest_first[1]}" in link["href"]
    assert link["href"].startswith(f"{PUBLIC_URL}/compute/v2.1/servers?")
    rest = client.get(f"{API}/servers/detail",
                      params={"name": "^page-", "limit": 2, "marker": newest_first[1]}).json()
    assert [server["id"] for server in rest["servers"]] == newest_first[2:]
    assert "servers_links" not in rest
    assert_fault(client.get(f"{API}/servers", params={"marker": "nope"}), 400, "badRequest",
                 "marker [nope] not found")
    assert_fault(client.get(f"{API}/servers", params={"limit": "x"}), 400, "badRequest")


# --- servers: delete ------------------------------------------------------------------


def test_delete_unscheduled_server_is_gone_at_once(client):
    server_id = create(client, "short-lived").json()["server"]["id"]
    response = client.delete(f"{API}/servers/{server_id}")
    assert response.status_code == 204 and response.content == b""
    assert_fault(client.get(f"{API}/servers/{server_id}"), 404, "itemNotFound")
    listed = client.get(f"{API}/servers", params={"name": "short-lived"}).json()["servers"]
    assert listed == []
    assert_fault(client.delete(f"{API}/servers/{server_id}"), 404, "itemNotFound")


# --- microversions, request ids, faults -----------------------------------------------


def assert_standard_headers(response, version="2.1"):
    assert response.headers["openstack-api-version"] == f"compute {version}"
    assert response.headers["x-openstack-nova-api-version"] == version
    assert response.headers["vary"] == "OpenStack-API-Version, X-OpenStack-Nova-API-Version"
    request_id = response.headers["x-openstack-request-id"]
    assert REQUEST_ID.match(request_id)
    assert response.headers["x-compute-request-id"] == request_id


def test_version_out_of_range_is_406(client):
    response = client.get(f"{API}/flavors", headers={"OpenStack-API-Version": "compute 2.200"})
    assert_fault(response, 406, "computeFault", "Version 2.200 is not supported by the API."
                                                f" Minimum is 2.1 and maximum is {MAX}.")
    assert_standard_headers(response)
    response = client.get(f"{API}/flavors", headers={"X-OpenStack-Nova-API-Version": "3.0"})
    assert_fault(response, 406, "computeFault")


@pytest.mark.parametrize("headers", [
    {"OpenStack-API-Version": "compute two"},
    {"OpenStack-API-Version": "compute 2.01"},
    {"X-OpenStack-Nova-API-Version": "2"},
])
def test_malformed_version_is_400(client, headers):
    response = client.get(f"{API}/flavors", headers=headers)
    assert_fault(response, 400, "badRequest")
    assert_standard_headers(response)


@pytest.mark.parametrize("headers, version", [
    ({}, "2.1"),
    ({"OpenStack-API-Version": "compute latest"}, MAX),
    ({"OpenStack-API-Version": "compute 2.1", "X-OpenStack-Nova-API-Version": "2.200"}, "2.1"),
    ({"OpenStack-API-Version": "volume 3.0, compute 2.1"}, "2.1"),
    ({"X-OpenStack-Nova-API-Version": "2.1"}, "2.1"),
    ({"X-OpenStack-Nova-API-Version": "2.10"}, "2.10"),
])
def test_supported_versions(client, headers, version):
    response = client.get(f"{API}/flavors", headers=headers)
    assert response.status_code == 200
    assert_standard_headers(response, version)


@pytest.mark.parametrize("method, path", [
    ("GET", "/compute/"), ("GET", f"{API}/flavors/1"), ("GET", f"{API}/servers/missing"),
    ("GET", "/nowhere"), ("GET", f"{API}/nowhere"), ("PUT", f"{API}/flavors"),
])
def test_every_response_has_request_id_and_version_headers(client, method, path):
    assert_standard_headers(client.request(method, path))


def test_request_ids_differ_per_request(client):
    first = client.get(f"{API}/flavors").headers["x-openstack-request-id"]
    second = client.get(f"{API}/flavors").headers["x-openstack-request-id"]
    assert first != second


def test_unknown_route_and_method(client):
    assert_fault(client.get(f"{API}/nowhere"), 404, "itemNotFound")
    assert_fault(client.get("/nowhere"), 404, "itemNotFound")
    assert_fault(client.put(f"{API}/flavors"), 405, "badMethod")


def test_unexpected_error_is_500_compute_fault(store, database_url):
    broken = ReadModels(database_url)
    broken.close()
    app = create_app(store=store, read_models=broken, public_url=PUBLIC_URL)
    with TestClient(app) as client:
        response = client.get(f"{API}/flavors")
    assert_fault(response, 500, "computeFault")
    assert response.json()["computeFault"]["message"].startswith("Unexpected API Error.")
    assert_standard_headers(response)
