"""os-simple-tenant-usage through the real app over PostgreSQL: servers booted through the
API, launched and deleted by the services at chosen times, their hours counted over the
window asked for."""

import datetime as dt

import pytest

from cloud.domain.envelope import Actor, Context
from cloud.domain.host import Claim, Ratios
from cloud.services import catalog, hosts, instances
from tests.http.service_fixtures import API, assert_fault, headers, make_cloud

DAY = "2024-01-01T"
WINDOW = {"start": DAY + "06:00:00", "end": "2024-01-02T00:00:00"}
FLAVORS = {"1": (1, 512, 1), "3": (2, 4096, 40)}  # vcpus, memory_mb, disk of each
SERVER_FIELDS = {"instance_id", "name", "hours", "flavor", "vcpus", "memory_mb", "local_gb",
                 "started_at", "ended_at", "state", "tenant_id", "uptime"}
TOTALS = {"tenant_id", "total_hours", "total_local_gb_usage", "total_memory_mb_usage",
          "total_vcpus_usage", "start", "stop"}


def at(moment: str) -> Context:
    return Context(request_id="req-test", actor=Actor(agent="test"),
                   timestamp=moment + "+00:00")


def member(project: str) -> dict[str, str]:
    return {"X-Auth-User": f"{project}-user", "X-Auth-Project-Id": project,
            "X-Roles": "member,reader"}


def boot(cloud, *, project: str, name: str, flavor: str, launched: str,
         terminated: str | None = None) -> str:
    """A server of ``project`` created through the API, running on c1 from ``launched``
    and, when given, deleted at ``terminated``."""
    body = {"server": {"name": name, "imageRef": catalog.DEFAULT_IMAGE_ID,
                       "flavorRef": flavor}}
    response = cloud.client.post(f"{API}/servers", json=body, headers=member(project))
    assert response.status_code == 202, response.text
    server_id = response.json()["server"]["id"]
    vcpus, memory_mb, disk_gb = FLAVORS[flavor]
    hosts.claim(cloud.store, "c1", instance_id=server_id, ratios=Ratios(),
                resources=Claim(vcpus=vcpus, memory_mb=memory_mb, disk_gb=disk_gb),
                context=cloud.context())
    instances.schedule(cloud.store, server_id, host_name="c1", context=cloud.context())
    positions = instances.spawned(cloud.store, server_id, host_name="c1", power_state=1,
                                  context=at(launched))
    if terminated is not None:
        instances.delete(cloud.store, server_id, context=cloud.context())
        positions = instances.deleted(cloud.store, server_id, host_name="c1",
                                      context=at(terminated))
    cloud.read_models.wait_for(max(positions))
    return server_id


@pytest.fixture
def cloud(database_url):
    with make_cloud(database_url) as cloud:
        cloud.register("c1", vcpus=64, memory_mb=65536, disk_gb=1000)
        cloud.settle()
        yield cloud


@pytest.fixture
def servers(cloud):
    """demo: web (m1.tiny, running since midnight), db (m1.medium, deleted at noon),
    late (launched after the window); other: one m1.tiny launched at 18:00."""
    return {
        "web": boot(cloud, project="demo", name="web", flavor="1", launched=DAY + "00:00:00"),
        "db": boot(cloud, project="demo", name="db", flavor="3", launched=DAY + "00:00:00",
                   terminated=DAY + "12:00:00"),
        "gone": boot(cloud, project="demo", name="gone", flavor="1",
                     launched=DAY + "00:00:00", terminated=DAY + "03:00:00"),
        "late": boot(cloud, project="demo", name="late", flavor="1",
                     launched="2024-01-03T00:00:00"),
        "other": boot(cloud, project="other", name="o", flavor="1",
                      launched=DAY + "18:00:00"),
    }


def get(cloud, path="", version="2.1", hdrs=None, **params):
    return cloud.client.get(f"{API}/os-simple-tenant-usage{path}", params=params,
                            headers={**(hdrs or headers()),
                                     "OpenStack-API-Version": f"compute {version}"})


def ok(response):
    assert response.status_code == 200, response.text
    return response.json()


def test_list_counts_each_projects_hours_in_the_window(cloud, servers):
    usages = ok(get(cloud, **WINDOW))["tenant_usages"]
    by_project = {u["tenant_id"]: u for u in usages}
    assert set(by_project) == {"demo", "other"}
    demo = by_project["demo"]
    assert set(demo) == TOTALS  # no server_usages unless detailed=1
    # web: 06:00 → 24:00 (18 h, m1.tiny); db: 06:00 → its deletion at 12:00 (6 h,
    # m1.medium); gone was deleted before the window, late launched after it.
    assert demo["total_hours"] == pytest.approx(24.0)
    assert demo["total_vcpus_usage"] == pytest.approx(18 * 1 + 6 * 2)
    assert demo["total_memory_mb_usage"] == pytest.approx(18 * 512 + 6 * 4096)
    assert demo["total_local_gb_usage"] == pytest.approx(18 * 1 + 6 * 40)
    assert (demo["start"], demo["stop"]) == ("2024-01-01T06:00:00.000000",
                                             "2024-01-02T00:00:00.000000")
    assert by_project["other"]["total_hours"] == pytest.approx(6.0)


def test_detailed_list_shows_each_server(cloud, servers):
    usages = ok(get(cloud, detailed="1", **WINDOW))["tenant_usages"]
    demo = next(u for u in usages if u["tenant_id"] == "demo")
    shown = {s["name"]: s for s in demo["server_usages"]}
    assert set(shown) == {"web", "db"}
    web, db = shown["web"], shown["db"]
    assert set(web) == SERVER_FIELDS
    assert web == {**web, "instance_id": servers["web"], "tenant_id": "demo",
                   "flavor": "m1.tiny", "vcpus": 1, "memory_mb": 512, "local_gb": 1,
                   "started_at": "2024-01-01T00:00:00.000000", "ended_at": None,
                   "state": "active"}
    assert web["hours"] == pytest.approx(18.0)
    assert web["uptime"] >= 3600 * 24 * 365  # launched in 2024, still running
    assert db == {**db, "flavor": "m1.medium", "vcpus": 2, "memory_mb": 4096,
                  "local_gb": 40, "ended_at": "2024-01-01T12:00:00.000000",
                  "state": "terminated", "uptime": 12 * 3600}
    assert db["hours"] == pytest.approx(6.0)


def test_a_member_sees_their_own_project_only(cloud, servers):
    usage = ok(get(cloud, "/demo", hdrs=member("demo"), **WINDOW))["tenant_usage"]
    assert set(usage) == TOTALS | {"server_usages"}
    assert usage["total_hours"] == pytest.approx(24.0)
    assert sorted(s["name"] for s in usage["server_usages"]) == ["db", "web"]
    assert_fault(get(cloud, "/other", hdrs=member("demo"), **WINDOW), 403, "forbidden")
    assert_fault(get(cloud, "", hdrs=member("demo"), **WINDOW), 403, "forbidden",
                 "Policy doesn't allow os_compute_api:os-simple-tenant-usage:list to be"
                 " performed.")
    # The admin sees any project; one without servers in the window is {}.
    assert ok(get(cloud, "/other", **WINDOW))["tenant_usage"]["total_hours"] == (
        pytest.approx(6.0))
    assert ok(get(cloud, "/nobody", **WINDOW)) == {"tenant_usage": {}}


def test_the_window_ends_now_at_the_latest(cloud, servers):
    tomorrow = (dt.datetime.now(dt.UTC) + dt.timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%S")
    start = (dt.datetime.now(dt.UTC) - dt.timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M:%S.%f")
    usage = ok(get(cloud, "/demo", start=start, end=tomorrow))["tenant_usage"]
    # web and late still run: about two hours each up to now, not the day after.
    assert sorted(s["name"] for s in usage["server_usages"]) == ["late", "web"]
    assert usage["total_hours"] == pytest.approx(4.0, abs=0.01)
    # The third spelling Nova reads: a space and microseconds (web and db each lose
    # half a second).
    spaced = ok(get(cloud, "/demo", start="2024-01-01 11:00:00.5", end=WINDOW["end"]))
    assert spaced["tenant_usage"]["total_hours"] == pytest.approx(14 - 1 / 3600)


@pytest.mark.parametrize("params, message", [
    ({"start": "yesterday"}, "Invalid datetime string: Datetime is in invalid format"),
    ({"end": "2024-01-01"}, "Invalid datetime string: Datetime is in invalid format"),
    ({"start": "2024-01-02T00:00:00", "end": "2024-01-01T00:00:00"},
     "Invalid start time. The start time cannot occur after the end time."),
])
def test_bad_times_are_refused(cloud, params, message):
    assert_fault(get(cloud, **params), 400, "badRequest", message)
    assert_fault(get(cloud, "/demo", **params), 400, "badRequest", message)


def test_paging_from_2_40(cloud, servers):
    first = ok(get(cloud, version="2.40", detailed="1", limit="2", **WINDOW))
    page = [s["instance_id"] for u in first["tenant_usages"] for s in u["server_usages"]]
    assert len(page) == 2
    [link] = first["tenant_usages_links"]
    assert link["rel"] == "next" and f"marker={page[-1]}" in link["href"]
    assert "/compute/v2.1/os-simple-tenant-usage?" in link["href"]
    rest = ok(get(cloud, version="2.40", detailed="1", limit="2", marker=page[-1], **WINDOW))
    more = [s["instance_id"] for u in rest["tenant_usages"] for s in u["server_usages"]]
    assert set(page + more) == {servers["web"], servers["db"], servers["other"]}
    assert len(more) == 1 and "tenant_usages_links" not in rest
    shown = ok(get(cloud, "/demo", version="2.40", limit="1", **WINDOW))
    assert len(shown["tenant_usage"]["server_usages"]) == 1
    assert "/os-simple-tenant-usage/demo?" in shown["tenant_usage_links"][0]["href"]
    # Before 2.40 limit is not read; an unknown marker is a 400.
    assert "tenant_usages_links" not in ok(get(cloud, limit="1", **WINDOW))
    assert_fault(get(cloud, version="2.40", marker="nope", **WINDOW), 400, "badRequest",
                 "Marker nope could not be found.")


def test_unknown_parameters_are_refused_from_2_75(cloud):
    assert ok(get(cloud, version="2.74", foo="1")) == {"tenant_usages": []}
    assert_fault(get(cloud, version="2.75", foo="1"), 400, "badRequest",
                 "Additional properties are not allowed ('foo' was unexpected)")
    assert_fault(get(cloud, "/demo", version="2.75", detailed="1"), 400, "badRequest")
