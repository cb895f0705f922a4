"""os-hosts through the real app over PostgreSQL: the services as hosts with their
zones, a compute host's capacity and usage by project, Nova's answers for what the
libvirt driver cannot do, admin only, and gone at 2.43."""

import pytest

from cloud.domain.host import Claim, Ratios
from cloud.services import catalog, hosts, instances
from tests.http.service_fixtures import API, assert_fault, headers, make_cloud

ENTRY = {"host_name", "service", "zone"}
NOT_SUPPORTED = "The requested functionality is not supported."


@pytest.fixture
def cloud(database_url):
    with make_cloud(database_url) as cloud:
        cloud.register("c1", vcpus=8, memory_mb=16384, disk_gb=200)
        cloud.register("c2", vcpus=4, memory_mb=8192, disk_gb=100)
        cloud.beat("ctl", "nova-scheduler")
        cloud.beat("ctl", "nova-conductor")
        cloud.settle()
        yield cloud


def get(cloud, path="", version="2.1", *, admin=True, **params):
    return cloud.client.get(f"{API}/os-hosts{path}", params=params,
                            headers=headers(version, admin=admin))


def ok(response):
    assert response.status_code == 200, response.text
    return response.json()


def place_for(cloud, host, project):
    """A server of ``project`` (flavor 2: 1 vcpu, 2048 MB, 20 GB) placed on ``host``."""
    asked = {**headers(), "X-Auth-Project-Id": project}
    body = {"server": {"name": "other", "imageRef": catalog.DEFAULT_IMAGE_ID,
                       "flavorRef": "2"}}
    response = cloud.client.post(f"{API}/servers", json=body, headers=asked)
    assert response.status_code == 202, response.text
    server_id = response.json()["server"]["id"]
    hosts.claim(cloud.store, host, instance_id=server_id, ratios=Ratios(),
                resources=Claim(vcpus=1, memory_mb=2048, disk_gb=20),
                context=cloud.context())
    cloud.read_models.wait_for(max(instances.schedule(
        cloud.store, server_id, host_name=host, context=cloud.context())))
    return server_id


def add_to_zone(cloud, host, zone):
    admin = headers()
    created = cloud.client.post(f"{API}/os-aggregates", headers=admin, json={
        "aggregate": {"name": zone, "availability_zone": zone}})
    assert created.status_code == 200, created.text
    added = cloud.client.post(f"{API}/os-aggregates/{created.json()['aggregate']['id']}"
                              "/action", headers=admin, json={"add_host": {"host": host}})
    assert added.status_code == 200, added.text
    cloud.settle()


def test_list_has_one_entry_per_service_with_its_topic_and_zone(cloud):
    add_to_zone(cloud, "c1", "az-east")
    listed = ok(get(cloud))["hosts"]
    assert all(set(entry) == ENTRY for entry in listed)
    assert sorted((e["host_name"], e["service"], e["zone"]) for e in listed) == [
        ("c1", "compute", "az-east"), ("c2", "compute", "nova"),
        ("ctl", "conductor", "internal"), ("ctl", "scheduler", "internal")]


def test_list_filters_by_zone_and_leaves_disabled_services_out(cloud):
    add_to_zone(cloud, "c1", "az-east")
    assert ok(get(cloud, zone="az-east"))["hosts"] == [
        {"host_name": "c1", "service": "compute", "zone": "az-east"}]
    assert {e["host_name"] for e in ok(get(cloud, zone="internal"))["hosts"]} == {"ctl"}
    assert ok(get(cloud, zone="nowhere")) == {"hosts": []}
    body = {"host": "c2", "binary": "nova-compute"}
    assert cloud.client.put(f"{API}/os-services/disable", json=body,
                            headers=headers()).status_code == 200
    assert "c2" not in {e["host_name"] for e in ok(get(cloud))["hosts"]}


def test_show_of_an_idle_host_has_its_totals_and_nothing_used(cloud):
    resources = [r["resource"] for r in ok(get(cloud, "/c2"))["host"]]
    assert resources == [
        {"host": "c2", "project": "(total)", "cpu": 4, "memory_mb": 8192, "disk_gb": 100},
        {"host": "c2", "project": "(used_now)", "cpu": 0, "memory_mb": 0, "disk_gb": 0},
        {"host": "c2", "project": "(used_max)", "cpu": 0, "memory_mb": 0, "disk_gb": 0}]


def test_show_sums_the_servers_on_the_host_by_project(cloud):
    cloud.place("c1", "a")
    cloud.place("c1", "b")
    place_for(cloud, "c1", "other")
    cloud.place("c2", "elsewhere")
    resources = [r["resource"] for r in ok(get(cloud, "/c1"))["host"]]
    assert resources == [
        {"host": "c1", "project": "(total)", "cpu": 8, "memory_mb": 16384, "disk_gb": 200},
        {"host": "c1", "project": "(used_now)", "cpu": 3, "memory_mb": 3072,
         "disk_gb": 22},
        {"host": "c1", "project": "(used_max)", "cpu": 3, "memory_mb": 3072,
         "disk_gb": 22},
        {"host": "c1", "project": "admin", "cpu": 2, "memory_mb": 1024, "disk_gb": 2},
        {"host": "c1", "project": "other", "cpu": 1, "memory_mb": 2048, "disk_gb": 20}]


def test_an_unknown_or_non_compute_host_is_not_found(cloud):
    for name in ("nohost", "ctl"):
        assert_fault(get(cloud, f"/{name}"), 404, "itemNotFound",
                     f"Host '{name}' is not mapped to any cell")


def test_what_the_driver_cannot_do_is_not_implemented(cloud):
    for action in ("startup", "shutdown", "reboot"):
        assert_fault(get(cloud, f"/c1/{action}"), 501, "notImplemented", NOT_SUPPORTED)
        assert_fault(get(cloud, f"/nohost/{action}"), 404, "itemNotFound")
    for body in ({"status": "disable"}, {"maintenance_mode": "Enable"},
                 {"status": "ENABLE", "maintenance_mode": "disable"}):
        assert_fault(cloud.client.put(f"{API}/os-hosts/c1", json=body, headers=headers()),
                     501, "notImplemented", NOT_SUPPORTED)
    assert_fault(cloud.client.put(f"{API}/os-hosts/nohost", json={"status": "enable"},
                                  headers=headers()), 404, "itemNotFound")
    services = ok(cloud.client.get(f"{API}/os-services?host=c1", headers=headers()))
    assert services["services"][0]["status"] == "enabled"  # nothing was switched


@pytest.mark.parametrize(("body", "message"), [
    ({"status": "off"}, "Invalid input for field/attribute status. Value: off. 'off' is"
     " not one of ['enable', 'disable', 'Enable', 'Disable', 'ENABLE', 'DISABLE']"),
    ({"status": "enable", "zone": "x"},
     "Additional properties are not allowed ('zone' was unexpected)"),
])
def test_an_update_body_is_checked(cloud, body, message):
    assert_fault(cloud.client.put(f"{API}/os-hosts/c1", json=body, headers=headers()),
                 400, "badRequest", message)


def test_an_update_with_neither_field_echoes_the_host_as_nova_does(cloud):
    response = cloud.client.put(f"{API}/os-hosts/c1", json={}, headers=headers())
    assert ok(response) == {"host": "c1"}


def test_only_admins_may_use_it(cloud):
    for path in ("", "/c1", "/c1/reboot"):
        assert_fault(get(cloud, path, admin=False), 403, "forbidden")
    assert_fault(cloud.client.put(f"{API}/os-hosts/c1", json={"status": "enable"},
                                  headers=headers(admin=False)), 403, "forbidden")


def test_gone_from_2_43(cloud):
    assert ok(get(cloud, version="2.42"))["hosts"]
    for path in ("", "/c1", "/c1/startup"):
        assert get(cloud, path, "2.43").status_code == 404
    assert cloud.client.put(f"{API}/os-hosts/c1", json={"status": "enable"},
                            headers=headers("2.43")).status_code == 404
