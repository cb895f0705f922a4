"""Server changes of microversions 2.37–2.98 (create, rebuild, show, list filters), each
gated at its version, against a real PostgreSQL log and read models. Tests of versions
above the served maximum are skipped until the lead raises it."""

import base64

import msgspec
import psycopg
import pytest
from litestar.testing import TestClient

from cloud.adapters.eventstore import EventStore
from cloud.domain import events as ev
from cloud.domain import instance
from cloud.domain.envelope import Actor, Context
from cloud.domain.flavor import DEFAULT_FLAVORS
from cloud.domain.host import Claim
from cloud.domain.placement import HostView, RequestSpec, place
from cloud.http import microversions
from cloud.http.app import create_app
from cloud.http.context import NoAuth
from cloud.projections import projector
from cloud.projections.queries import ReadModels
from cloud.services import catalog, conductor, hosts, instances
from cloud.services.repository import load_instance
from cloud.util import utcnow

API = "/compute/v2.1"
HOST = "late-host"
USER_DATA = base64.b64encode(b"#cloud-config\n").decode()


def needs(version):
    """Skip a test of a microversion above the one served (it runs once it is served)."""
    return pytest.mark.skipif(microversions.MAX_VERSION < microversions.parse(version),
                              reason=f"microversion {version} not served yet")


@pytest.fixture(scope="module")
def cloud(databases):
    url = databases.make()
    store, read_models = EventStore(url), ReadModels(url)
    app = create_app(store=store, read_models=read_models, authenticator=NoAuth())
    context = Context(actor=Actor(agent="test"), timestamp=utcnow())
    hosts.register(store, HOST, context=context, hypervisor_type="QEMU",
                   hypervisor_hostname=HOST + ".node", vcpus=64, memory_mb=65536,
                   disk_gb=1000)
    with psycopg.connect(url, autocommit=True) as conn:
        conductor.record_heartbeat(conn, HOST, "nova-compute", utcnow())
    with projector.in_background(url), TestClient(app) as client:
        unlimited = {"quota_set": {"instances": -1, "cores": -1, "ram": -1}}
        for project in ("late", "filters", "filters83"):
            assert client.put(f"{API}/os-quota-sets/{project}", json=unlimited,
                              headers=headers("2.1", admin=True)).status_code == 200
        yield client, store, read_models
    read_models.close()
    store.close()


def headers(version, *, admin=False, project="late"):
    return {"X-Auth-User": "admin" if admin else "user", "X-Auth-Project-Id": project,
            "X-Roles": "admin,member,reader" if admin else "member,reader",
            "OpenStack-API-Version": f"compute {version}"}


def create(client, version, *, admin=False, project="late", **fields):
    if microversions.parse(version) >= (2, 37):
        fields.setdefault("networks", "none")
    body = {"server": {"name": "late-1", "imageRef": catalog.DEFAULT_IMAGE_ID,
                       "flavorRef": "1", **fields}}
    return client.post(f"{API}/servers", json=body,
                       headers=headers(version, admin=admin, project=project))


def boot(client, version="2.1", **fields):
    response = create(client, version, **fields)
    assert response.status_code == 202, response.text
    return response.json()["server"]["id"]


def show(client, server_id, version, *, admin=False):
    response = client.get(f"{API}/servers/{server_id}", headers=headers(version, admin=admin))
    assert response.status_code == 200, response.text
    return response.json()["server"]


def active(cloud, server_id):
    """Placed on HOST and active (no compute agent runs here: an admin resets it)."""
    client, store, read_models = cloud
    context = Context(actor=Actor(agent="test"), timestamp=utcnow())
    positions = instances.schedule(store, server_id, host_name=HOST, context=context)
    if positions:  # already placed by an earlier call
        read_models.wait_for(max(positions))
    response = client.post(f"{API}/servers/{server_id}/action",
                           json={"os-resetState": {"state": "active"}},
                           headers=headers("2.1", admin=True))
    assert response.status_code == 202, response.text
    return server_id


def rebuild(client, server_id, version, status=202, **fields):
    response = client.post(f"{API}/servers/{server_id}/action", json={"rebuild": {
        "imageRef": catalog.DEFAULT_IMAGE_ID, **fields}}, headers=headers(version))
    assert response.status_code == status, response.text
    return response.json()


def listed(client, version, query, *, admin=False, project="late"):
    return client.get(f"{API}/servers/detail?{query}",
                      headers=headers(version, admin=admin, project=project))


# --- gating at served versions --------------------------------------------------------


@pytest.mark.parametrize("field, value", [
    ("trusted_image_certificates", ["cert-1"]), ("host", HOST),
    ("hypervisor_hostname", HOST + ".node"), ("hostname", "web"),
    ("networks", "auto"),
])
def test_later_create_fields_are_refused_at_2_25(cloud, field, value):
    response = create(cloud[0], "2.25", admin=True, **{field: value})
    assert response.status_code == 400 and field in response.text


@pytest.mark.parametrize("field, value", [
    ("key_name", None), ("user_data", USER_DATA), ("trusted_image_certificates", None),
    ("hostname", "web"), ("bogus", 1),
])
def test_later_rebuild_fields_are_refused_at_2_25(cloud, field, value):
    server_id = active(cloud, boot(cloud[0]))
    body = rebuild(cloud[0], server_id, "2.25", status=400, **{field: value})
    assert field in body["badRequest"]["message"]
    assert show(cloud[0], server_id, "2.25")["status"] == "ACTIVE"  # nothing recorded


def test_rebuild_applies_name_metadata_and_description(cloud):
    client = cloud[0]
    server_id = active(cloud, boot(client, "2.19", description="old"))
    body = rebuild(client, server_id, "2.19", name="renewed", metadata={"tier": "web"},
                   description="new", personality=[])
    assert body["server"]["status"] == "REBUILD"
    # Before 2.75 the answer leaves out the extended attributes (and key_name to 2.54).
    assert not {"key_name", "OS-EXT-STS:vm_state", "user_data"} & set(body["server"])
    shown = show(client, server_id, "2.19")
    assert (shown["name"], shown["metadata"], shown["description"]) == (
        "renewed", {"tier": "web"}, "new")
    state, _ = load_instance(cloud[1], server_id)
    assert (state.name, state.description, state.metadata) == ("renewed", "new",
                                                               {"tier": "web"})


def test_later_view_fields_are_absent_at_2_25(cloud):
    client = cloud[0]
    server = show(client, boot(client), "2.25")
    assert not {"trusted_image_certificates", "pinned_availability_zone", "server_groups",
                "OS-EXT-SRV-ATTR:hostname"} & set(server)
    assert "properties" not in server["image"]


def test_2_83_filters_are_dropped_for_users_and_used_by_admins_before(cloud):
    client = cloud[0]
    server_id = boot(client, project="filters")
    everyone = listed(client, "2.25", "power_state=7", project="filters").json()["servers"]
    assert server_id in {s["id"] for s in everyone}
    for query, found in (("power_state=0", True), ("power_state=1", False),
                         ("progress=0", True), ("created_at=1999", False),
                         ("launched_at=.", False), ("config_drive=x", False)):
        response = listed(client, "2.25", query + "&all_tenants=1", admin=True)
        ids = {s["id"] for s in response.json()["servers"]}
        assert (server_id in ids) is found, query


def test_unknown_list_parameters_are_ignored_before_2_75(cloud):
    assert listed(cloud[0], "2.74" if microversions.MAX_VERSION >= (2, 74) else "2.25",
                  "bogus=1").status_code == 200


# --- domain: replay and placement -----------------------------------------------------


def test_an_old_rebuild_event_replays_without_the_new_fields():
    old = msgspec.json.encode({"host": "h", "image_ref": "i", "name": "n",
                               "flavor": msgspec.to_builtins(DEFAULT_FLAVORS[0])})
    event = msgspec.json.decode(old, type=ev.InstanceRebuildRequested)
    assert event.key_name is msgspec.UNSET and event.metadata is msgspec.UNSET
    (requested,) = instance.request("x", name="a", project_id="p", user_id="u",
                                    flavor=DEFAULT_FLAVORS[0], image_ref="i",
                                    metadata={"k": "v"})
    state = instance.evolve(instance.evolve(None, "x", requested), "x", event)
    assert (state.name, state.metadata) == ("n", {"k": "v"})


def test_a_requested_host_is_the_only_one_placed_on():
    views = [HostView(name=name, vcpus=8, memory_mb=8192, disk_gb=100,
                      used=Claim(vcpus=0, memory_mb=0, disk_gb=0))
             for name in "abc"]
    spec = RequestSpec(instance_id="x", want=Claim(vcpus=1, memory_mb=512, disk_gb=1))
    assert len(place(spec, views).hosts) == 3
    pinned = msgspec.structs.replace(spec, requested_host="b")
    assert place(pinned, views).hosts == ["b"]


# --- above 2.25 (run once the lead raises MAX_VERSION) --------------------------------


@needs("2.37")
def test_2_37_networks_are_required(cloud):
    client = cloud[0]
    response = create(client, "2.37", networks=None)
    assert response.status_code == 400 and "networks" in response.text
    for networks in ("auto", "none", []):
        assert create(client, "2.37", networks=networks).status_code == 202
    assert create(client, "2.37", networks="some").status_code == 400


@needs("2.54")
def test_2_54_rebuild_sets_and_unsets_the_key(cloud):
    client = cloud[0]
    keypair = client.post(f"{API}/os-keypairs", json={"keypair": {"name": "late-key"}},
                          headers=headers("2.1"))
    assert keypair.status_code in (200, 201), keypair.text
    server_id = active(cloud, boot(client))
    assert rebuild(client, server_id, "2.54", key_name="late-key")["server"][
        "key_name"] == "late-key"
    rebuild(client, server_id, "2.54", status=400, key_name="no-such-key")
    active(cloud, server_id)
    rebuild(client, server_id, "2.54", key_name=None)
    assert show(client, server_id, "2.54")["key_name"] is None


@needs("2.57")
def test_2_57_rebuild_user_data_replaces_personality(cloud):
    client = cloud[0]
    server_id = active(cloud, boot(client))
    rebuild(client, server_id, "2.57", status=400, personality=[])
    rebuild(client, server_id, "2.57", status=400, user_data="not base64!")
    assert rebuild(client, server_id, "2.57", user_data=USER_DATA)["server"][
        "user_data"] == USER_DATA
    assert show(client, server_id, "2.57", admin=True)[
        "OS-EXT-SRV-ATTR:user_data"] == USER_DATA
    assert create(client, "2.57", personality=[]).status_code == 400


@needs("2.63")
def test_2_63_trusted_image_certificates(cloud):
    client = cloud[0]
    server_id = boot(client, "2.63", trusted_image_certificates=["c1", "c2"])
    assert show(client, server_id, "2.63")["trusted_image_certificates"] == ["c1", "c2"]
    assert show(client, boot(client, "2.63"), "2.63")["trusted_image_certificates"] is None
    for bad in ([], ["c1", "c1"], [""], "c1"):
        assert create(client, "2.63", trusted_image_certificates=bad).status_code == 400
    active(cloud, server_id)
    rebuild(client, server_id, "2.63", trusted_image_certificates=None)
    assert show(client, server_id, "2.63")["trusted_image_certificates"] is None


@needs("2.71")
def test_2_71_rebuild_and_update_show_the_groups(cloud):
    client = cloud[0]
    server_id = active(cloud, boot(client))
    assert rebuild(client, server_id, "2.71")["server"]["server_groups"] == []
    updated = client.put(f"{API}/servers/{server_id}", json={"server": {"name": "u"}},
                         headers=headers("2.71"))
    assert updated.json()["server"]["server_groups"] == []
    assert "server_groups" not in rebuild(client, active(cloud, server_id), "2.70")["server"]


@needs("2.74")
def test_2_74_an_admin_names_the_host(cloud):
    client, store, _ = cloud
    assert create(client, "2.74", host=HOST).status_code == 403
    assert create(client, "2.74", admin=True, host="nowhere").status_code == 400
    assert create(client, "2.74", admin=True, host=HOST,
                  hypervisor_hostname="other.node").status_code == 400
    response = create(client, "2.74", admin=True, hypervisor_hostname=HOST + ".node")
    assert response.status_code == 202, response.text
    state, _ = load_instance(store, response.json()["server"]["id"])
    assert state.requested_host == HOST


def test_an_admin_names_the_host_in_the_availability_zone(cloud):
    """Nova's ZONE:HOST, ZONE:HOST:NODE and ZONE::NODE, at any version: for admins only,
    the host must match, and the server is asked of that host (in ZONE, if given)."""
    client, store, _ = cloud
    assert create(client, "2.1", availability_zone=f"nova:{HOST}").status_code == 403
    for bad in ("nova:nowhere", f"nova:{HOST}:other.node", f"nova:{HOST}:{HOST}.node:x",
                f"elsewhere:{HOST}"):
        response = create(client, "2.1", admin=True, availability_zone=bad)
        assert response.status_code == 400, bad
        assert response.json()["badRequest"]["message"]
    both = create(client, "2.74", admin=True, availability_zone=f"nova:{HOST}", host=HOST)
    assert both.status_code == 400
    for zone, asked in ((f"nova:{HOST}", "nova"), (f"nova:{HOST}:{HOST}.node", "nova"),
                        (f"nova::{HOST}.node", "nova"), (f":{HOST}", None)):
        response = create(client, "2.1", admin=True, availability_zone=zone)
        assert response.status_code == 202, response.text
        state, _ = load_instance(store, response.json()["server"]["id"])
        assert (state.requested_host, state.availability_zone) == (HOST, asked), zone


@needs("2.75")
def test_2_75_unknown_list_parameters_are_refused(cloud):
    client = cloud[0]
    assert listed(client, "2.75", "bogus=1").status_code == 400
    assert listed(client, "2.75", "name=x&sort_key=display_name").status_code == 200
    server_id = active(cloud, boot(client))
    assert set(rebuild(client, server_id, "2.75")["server"]) - {
        "adminPass", "user_data"} == set(show(client, server_id, "2.75"))
    active(cloud, server_id)
    before = rebuild(client, server_id, "2.74")["server"]
    assert "key_name" in before and not {"OS-EXT-STS:vm_state", "config_drive",
                                         "OS-EXT-AZ:availability_zone"} & set(before)


@needs("2.83")
def test_2_83_users_filter_by_more_columns(cloud):
    client = cloud[0]
    server_id = boot(client, project="filters83")
    for query, found in (("power_state=0", True), ("power_state=1", False),
                         ("created_at=1999", False), ("progress=0", True)):
        response = listed(client, "2.83", query, project="filters83")
        ids = {s["id"] for s in response.json()["servers"]}
        assert (server_id in ids) is found, query


@needs("2.90")
def test_2_90_hostname_at_create_and_rebuild_shown_to_users(cloud):
    client = cloud[0]
    server_id = boot(client, "2.90", hostname="chosen")
    assert show(client, server_id, "2.90")["OS-EXT-SRV-ATTR:hostname"] == "chosen"
    assert create(client, "2.90", hostname="a.b").status_code == 400
    assert create(client, "2.90", hostname="x").status_code == 400  # 2 to 63
    assert create(client, "2.90", hostname="xy", max_count=2).status_code == 400
    active(cloud, server_id)
    rebuild(client, server_id, "2.90", hostname="again")
    assert show(client, server_id, "2.90")["OS-EXT-SRV-ATTR:hostname"] == "again"


@needs("2.94")
def test_2_94_fully_qualified_hostnames(cloud):
    client = cloud[0]
    server_id = boot(client, "2.94", hostname="web.example.org")
    assert show(client, server_id, "2.94")["OS-EXT-SRV-ATTR:hostname"] == "web.example.org"
    assert create(client, "2.94", hostname="bad name").status_code == 400
    assert create(client, "2.93", hostname="web.example.org").status_code == 400


@needs("2.96")
def test_2_96_pinned_availability_zone(cloud):
    client = cloud[0]
    assert show(client, boot(client), "2.96")["pinned_availability_zone"] is None
    assert "pinned_availability_zone" not in show(client, boot(client), "2.95")


@needs("2.98")
def test_2_98_image_properties(cloud):
    client = cloud[0]
    server_id = boot(client)
    image = show(client, server_id, "2.98")["image"]
    assert all(isinstance(value, str) for value in image["properties"].values())
    assert "min_disk" in image["properties"]
    assert "properties" not in show(client, server_id, "2.97")["image"]


def test_device_tags_are_refused_before_2_32(cloud):
    client = cloud[0]
    response = create(client, "2.25", networks=[{"uuid": "net-1", "tag": "nic1"}])
    assert response.status_code == 400 and "tag" in response.text
    bdm = [{"source_type": "image", "destination_type": "local", "boot_index": 0,
            "uuid": catalog.DEFAULT_IMAGE_ID, "tag": "disk1"}]
    assert create(client, "2.25", block_device_mapping_v2=bdm).status_code == 400


@needs("2.42")
def test_2_32_and_2_42_device_tags(cloud):
    client = cloud[0]
    nic = [{"uuid": "net-1", "tag": "nic1"}]
    bdm = [{"source_type": "image", "destination_type": "local", "boot_index": 0,
            "uuid": catalog.DEFAULT_IMAGE_ID, "tag": "disk1"}]
    assert create(client, "2.32", networks=nic, block_device_mapping_v2=bdm
                  ).status_code == 202
    assert create(client, "2.36", networks=nic).status_code == 202
    assert create(client, "2.36", networks=[{"uuid": "n"}],
                  block_device_mapping_v2=bdm).status_code == 400
    assert create(client, "2.37", networks=nic).status_code == 400
    assert create(client, "2.42", networks=nic, block_device_mapping_v2=bdm
                  ).status_code == 202
    assert create(client, "2.42", networks=[{"uuid": "n", "tag": "a/b"}]).status_code == 400
