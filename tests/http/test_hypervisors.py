"""os-hypervisors through the real app over PostgreSQL: usage from the host projection,
state and status from the services read model, the routes and fields of each
microversion served (the later ones are listed in the module docstring of
cloud.http.hypervisors and tested here once MAX_VERSION reaches them)."""

import json

import pytest

from cloud.http import microversions
from tests.http.service_fixtures import API, assert_fault, headers, make_cloud

SUMMARY = {"id", "hypervisor_hostname", "state", "status"}
DETAIL_2_1 = SUMMARY | {
    "hypervisor_type", "hypervisor_version", "host_ip", "service", "vcpus", "memory_mb",
    "local_gb", "vcpus_used", "memory_mb_used", "local_gb_used", "free_ram_mb",
    "free_disk_gb", "current_workload", "running_vms", "disk_available_least", "cpu_info"}
MAX = microversions.MAX_VERSION
needs = lambda major, minor: pytest.mark.skipif(  # noqa: E731
    MAX < (major, minor), reason=f"served from {major}.{minor}")


@pytest.fixture
def cloud(database_url):
    with make_cloud(database_url) as cloud:
        cloud.register("c1", vcpus=8, memory_mb=16384, disk_gb=200)
        cloud.register("c2", vcpus=4, memory_mb=8192, disk_gb=100)
        cloud.beat("ctl", "nova-scheduler")
        cloud.settle()
        yield cloud


def get(cloud, path, version="2.1", **params):
    return cloud.client.get(f"{API}/os-hypervisors{path}", params=params,
                            headers=headers(version))


def ok(response):
    assert response.status_code == 200, response.text
    return response.json()


def test_list_has_one_entry_per_compute_host(cloud):
    listed = ok(get(cloud, ""))["hypervisors"]
    assert [h["hypervisor_hostname"] for h in listed] == ["c1.example.org", "c2.example.org"]
    for shown in listed:
        assert set(shown) == SUMMARY
        assert isinstance(shown["id"], int)
        assert (shown["state"], shown["status"]) == ("up", "enabled")


def test_detail_and_show_carry_usage_and_the_service(cloud):
    cloud.place("c1")
    detail = ok(get(cloud, "/detail"))["hypervisors"]
    c1 = detail[0]
    assert set(c1) == DETAIL_2_1
    assert {k: c1[k] for k in ("vcpus", "memory_mb", "local_gb", "vcpus_used",
                               "memory_mb_used", "local_gb_used", "free_ram_mb",
                               "free_disk_gb", "running_vms", "current_workload")} == {
        "vcpus": 8, "memory_mb": 16384, "local_gb": 200, "vcpus_used": 1,
        "memory_mb_used": 512, "local_gb_used": 1, "free_ram_mb": 15872,
        "free_disk_gb": 199, "running_vms": 1, "current_workload": 1}
    assert c1["hypervisor_type"] == "QEMU" and c1["host_ip"] == "127.0.0.1"
    assert isinstance(c1["cpu_info"], str) and isinstance(json.loads(c1["cpu_info"]), dict)
    services = ok(cloud.client.get(f"{API}/os-services?binary=nova-compute&host=c1",
                                   headers=headers()))["services"]
    assert c1["service"] == {"host": "c1", "id": services[0]["id"], "disabled_reason": None}
    assert ok(get(cloud, f"/{c1['id']}")) == {"hypervisor": c1}


def test_a_disabled_or_silent_host_shows_it(cloud):
    body = {"host": "c2", "binary": "nova-compute", "disabled_reason": "broken fan"}
    assert cloud.client.put(f"{API}/os-services/disable-log-reason", json=body,
                            headers=headers()).status_code == 200
    cloud.beat("c2", "nova-compute", ago=300)
    c2 = ok(get(cloud, "/detail"))["hypervisors"][1]
    assert (c2["status"], c2["state"]) == ("disabled", "down")
    assert c2["service"]["disabled_reason"] == "broken fan"


def test_statistics_sum_every_hypervisor(cloud):
    cloud.place("c2")
    stats = ok(get(cloud, "/statistics"))["hypervisor_statistics"]
    assert stats == {"count": 2, "vcpus": 12, "memory_mb": 24576, "local_gb": 300,
                     "vcpus_used": 1, "memory_mb_used": 512, "local_gb_used": 1,
                     "free_ram_mb": 24064, "free_disk_gb": 299, "current_workload": 1,
                     "running_vms": 1, "disk_available_least": 299}


def test_uptime_before_2_88_is_not_known(cloud):
    """Agents do not report it: 501, as Nova answers for a driver without it (the CLI
    then shows the hypervisor without one); an unknown hypervisor is still a 404."""
    c1 = ok(get(cloud, ""))["hypervisors"][0]
    assert_fault(get(cloud, f"/{c1['id']}/uptime"), 501, "notImplemented")


def test_search_and_servers_by_hostname_pattern_before_2_53(cloud):
    server_id = cloud.place("c2", name="web")
    found = ok(get(cloud, "/c2.example/search"))["hypervisors"]
    assert [h["hypervisor_hostname"] for h in found] == ["c2.example.org"]
    assert set(found[0]) == SUMMARY
    both = ok(get(cloud, "/example.org/servers"))["hypervisors"]
    assert "servers" not in both[0]  # no servers: no key, before 2.75
    assert both[1]["servers"] == [{"name": "web", "uuid": server_id}]
    assert_fault(get(cloud, "/nomatch/search"), 404, "itemNotFound",
                 "No hypervisor matching 'nomatch' could be found.")


@pytest.mark.parametrize("key", ["42", "abc", "00000000-0000-0000-0000-000000000000"])
def test_unknown_ids_are_not_found_before_2_53(cloud, key):
    assert_fault(get(cloud, f"/{key}"), 404, "itemNotFound",
                 f"Hypervisor with ID '{key}' could not be found.")
    assert_fault(get(cloud, f"/{key}/uptime"), 404, "itemNotFound")


def test_paging_is_ignored_before_2_33(cloud):
    listed = ok(get(cloud, "", limit="1"))
    assert len(listed["hypervisors"]) == 2 and "hypervisors_links" not in listed


def test_non_admins_are_refused(cloud):
    for path in ("", "/detail", "/statistics", "/1", "/1/uptime", "/c1/search"):
        response = cloud.client.get(f"{API}/os-hypervisors{path}",
                                    headers=headers(admin=False))
        assert_fault(response, 403, "forbidden")


# --- later microversions (run once MAX_VERSION serves them) ---------------------------


@needs(2, 28)
def test_2_28_cpu_info_is_an_object(cloud):
    assert ok(get(cloud, "/detail", "2.28"))["hypervisors"][0]["cpu_info"] == {}


@needs(2, 33)
def test_2_33_paging(cloud):
    first = ok(get(cloud, "", "2.33", limit="1"))
    assert len(first["hypervisors"]) == 1
    next_href = first["hypervisors_links"][0]["href"]
    assert f"marker={first['hypervisors'][0]['id']}" in next_href
    rest = ok(get(cloud, "", "2.33", marker=str(first["hypervisors"][0]["id"])))
    assert [h["hypervisor_hostname"] for h in rest["hypervisors"]] == ["c2.example.org"]
    assert_fault(get(cloud, "", "2.33", marker="999"), 400, "badRequest",
                 "marker [999] not found")


@needs(2, 53)
def test_2_53_uuids_query_parameters_and_gone_routes(cloud):
    server_id = cloud.place("c1", name="db")
    listed = ok(get(cloud, "", "2.53", hypervisor_hostname_pattern="c1",
                    with_servers="true"))["hypervisors"]
    assert listed[0]["servers"] == [{"name": "db", "uuid": server_id}]
    hypervisor_id = listed[0]["id"]
    shown = ok(get(cloud, f"/{hypervisor_id}", "2.53"))["hypervisor"]
    assert len(shown["service"]["id"]) == 36
    assert_fault(get(cloud, "/1", "2.53"), 400, "badRequest", "Invalid uuid 1")
    assert get(cloud, "/c1/search", "2.53").status_code == 404
    assert_fault(get(cloud, "", "2.53", hypervisor_hostname_pattern="c", limit="1"), 400,
                 "badRequest")
    assert_fault(get(cloud, "", "2.53", bogus="1"), 400, "badRequest")


@needs(2, 88)
def test_2_88_drops_usage_and_adds_uptime(cloud):
    shown = ok(get(cloud, "/detail", "2.88"))["hypervisors"][0]
    assert "vcpus" not in shown and "cpu_info" not in shown and shown["uptime"] is None
    assert get(cloud, "/statistics", "2.88").status_code == 404
