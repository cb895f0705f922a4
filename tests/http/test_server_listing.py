"""GET /servers filters, sorting and paging; multi-create; deleted servers."""

import datetime as dt
import itertools
import re
import time

import pytest

from cloud.services import catalog
from tests.http.server_helpers import (
    API,
    MAX,
    activate,
    assert_fault,
    boot,
    headers,
    running_cloud,
)

_projects = itertools.count()


@pytest.fixture(scope="module")
def cloud(databases):
    with running_cloud(databases.make()) as cloud:
        yield cloud


@pytest.fixture
def project():
    return f"list{next(_projects)}"


def names(cloud, version="2.1", *, path="servers", **params):
    project = params.pop("project", "p1")
    admin = params.pop("admin", False)
    response = cloud.client.get(f"{API}/{path}", params=params,
                                headers=headers(version, project=project, admin=admin))
    assert response.status_code == 200, response.text
    return [server["name"] for server in response.json()["servers"]]


def create(cloud, project, version="2.1", **server):
    body = {"server": {"imageRef": catalog.DEFAULT_IMAGE_ID, "flavorRef": "1", **server}}
    return cloud.client.post(f"{API}/servers", json=body,
                             headers=headers(version, project=project))


# --- multi-create ---------------------------------------------------------------------


def test_multi_create_names_reservation_and_launch_index(cloud, project):
    response = create(cloud, project, name="web", min_count=2, max_count=3)
    assert response.status_code == 202, response.text
    first = response.json()["server"]["id"]
    listed = sorted(names(cloud, path="servers/detail", project=project))
    assert listed == ["web-1", "web-2", "web-3"]
    admin = headers("2.3", admin=True)
    details = cloud.client.get(f"{API}/servers/detail", params={
        "all_tenants": "1", "project_id": project}, headers=admin).json()["servers"]
    reservations = {server["OS-EXT-SRV-ATTR:reservation_id"] for server in details}
    assert len(reservations) == 1
    by_index = {s["OS-EXT-SRV-ATTR:launch_index"]: s for s in details}
    assert by_index[0]["id"] == first and by_index[2]["name"] == "web-3"
    assert by_index[1]["OS-EXT-SRV-ATTR:hostname"] == "web-2"
    (reservation,) = reservations
    # One transaction: one created_at, so the ids order them.
    assert sorted(names(cloud, project=project, reservation_id=reservation)) == listed


def test_return_reservation_id(cloud, project):
    response = create(cloud, project, name="r", max_count=2, return_reservation_id=True)
    assert response.status_code == 202
    reservation = response.json()["reservation_id"]
    assert re.fullmatch(r"r-[0-9a-z]{8}", reservation)
    assert list(response.json()) == ["reservation_id"]
    assert sorted(names(cloud, project=project, reservation_id=reservation)) == ["r-1", "r-2"]


def test_multi_create_within_quota_creates_as_many_as_fit(cloud, project):
    limit = {"quota_set": {"instances": 4}}
    assert cloud.client.put(f"{API}/os-quota-sets/{project}", json=limit,
                            headers=headers(admin=True)).status_code == 200
    assert create(cloud, project, name="a", min_count=2, max_count=3).status_code == 202
    refused = create(cloud, project, name="b", min_count=2, max_count=5)
    assert_fault(refused, 403, "forbidden", "Quota exceeded for instances: Requested 2-5,"
                 " but already used 3 of 4 instances")
    assert create(cloud, project, name="c", min_count=1, max_count=5).status_code == 202
    assert sorted(names(cloud, project=project)) == ["a-1", "a-2", "a-3", "c"]


@pytest.mark.parametrize("counts", [{"min_count": 3, "max_count": 2}, {"min_count": 0},
                                    {"max_count": "0"}, {"max_count": "x"}])
def test_bad_counts_are_400(cloud, project, counts):
    assert_fault(create(cloud, project, name="bad", **counts), 400, "badRequest")
    assert names(cloud, project=project) == []


# --- filters --------------------------------------------------------------------------


def test_status_flavor_image_filters(cloud, project):
    active = boot(cloud, "active", project=project)
    boot(cloud, "building", project=project)
    activate(cloud, active)
    assert names(cloud, project=project, status="ACTIVE") == ["active"]
    assert names(cloud, project=project, status="build") == ["building"]
    assert sorted(names(cloud, project=project, status=["ACTIVE", "BUILD"])) == [
        "active", "building"]
    assert names(cloud, project=project, status="SHUTOFF") == []
    assert names(cloud, project=project, status="NOT-A-STATUS") == []  # 400 from 2.38
    assert_fault(cloud.client.get(f"{API}/servers", params={"status": "DELETED"},
                                  headers=headers(project=project)), 403, "forbidden",
                 "Only administrators may list deleted instances")
    assert len(names(cloud, project=project, flavor="1")) == 2
    assert names(cloud, project=project, flavor="2") == []
    assert names(cloud, project=project, flavor="no-such-flavor") == []
    assert len(names(cloud, project=project, image=catalog.DEFAULT_IMAGE_ID)) == 2
    assert names(cloud, project=project, image="0" * 32) == []
    assert names(cloud, project=project, ip="10.0.0.1") == []


def test_admin_only_filters_are_ignored_for_others(cloud, project):
    server_id = boot(cloud, "hosted", project=project)
    activate(cloud, server_id, host="host-7")
    boot(cloud, "unhosted", project=project)
    both = ["hosted", "unhosted"]
    for ignored in ({"host": "host-7"}, {"uuid": server_id}, {"user_id": "nobody"},
                    {"key_name": "x"}, {"availability_zone": "zz"}, {"deleted": "true"},
                    {"no-such-filter": "1"}, {"description": "x"}, {"node": "x"}):
        assert sorted(names(cloud, project=project, **ignored)) == both, ignored
    admin = {"project": project, "admin": True, "all_tenants": "1", "project_id": project}
    assert names(cloud, host="host-7", **admin) == ["hosted"]
    assert names(cloud, uuid=server_id, **admin) == ["hosted"]
    assert names(cloud, user_id="nobody", **admin) == []
    assert sorted(names(cloud, user_id="u1", **admin)) == both
    assert sorted(names(cloud, availability_zone="^nova$", **admin)) == both
    assert sorted(names(cloud, **{"no-such-filter": "1"}, **admin)) == both
    assert sorted(names(cloud, tenant_id=project, project="admin", admin=True,
                        all_tenants="1")) == both
    # Without all_tenants an admin's project_id filter is its own project.
    assert names(cloud, project_id=project, project="admin", admin=True) == []


def test_deleted_servers_and_changes_since(cloud, project):
    before = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)
    kept, gone = boot(cloud, "kept", project=project), boot(cloud, "gone", project=project)
    assert cloud.client.delete(f"{API}/servers/{gone}",
                               headers=headers(project=project)).status_code == 204
    assert_fault(cloud.client.get(f"{API}/servers/{gone}", headers=headers(admin=True)),
                 404, "itemNotFound")
    assert names(cloud, project=project) == ["kept"]
    since = before.isoformat()
    assert sorted(names(cloud, project=project, **{"changes-since": since})) == [
        "gone", "kept"]
    later = (dt.datetime.now(dt.UTC) + dt.timedelta(minutes=1)).isoformat()
    assert names(cloud, project=project, **{"changes-since": later}) == []
    admin = {"project": project, "admin": True, "all_tenants": "1", "project_id": project}
    assert names(cloud, deleted="true", **admin) == ["gone"]
    assert names(cloud, deleted="false", **admin) == ["kept"]
    detail = cloud.client.get(f"{API}/servers/detail", params={
        "deleted": "true", "all_tenants": "1", "project_id": project},
        headers=headers(admin=True)).json()["servers"]
    assert [(s["id"], s["status"]) for s in detail] == [(gone, "DELETED")]
    assert names(cloud, status="DELETED", **admin) == ["gone"]
    assert_fault(cloud.client.get(f"{API}/servers", params={"changes-since": "yesterday"},
                                  headers=headers(project=project)), 400, "badRequest")
    assert kept


# --- sorting and paging ---------------------------------------------------------------


def test_sort_keys_and_directions(cloud, project):
    for name in ("b", "c", "a"):
        boot(cloud, name, project=project)
        time.sleep(0.01)
    assert names(cloud, project=project) == ["a", "c", "b"]  # newest first
    assert names(cloud, project=project, sort_key="display_name") == ["c", "b", "a"]
    assert names(cloud, project=project, sort_key="display_name", sort_dir="asc") == [
        "a", "b", "c"]
    assert names(cloud, project=project, sort_dir="asc") == ["b", "c", "a"]
    assert names(cloud, project=project, sort_key=["vm_state", "display_name"],
                 sort_dir=["asc", "asc"]) == ["a", "b", "c"]
    # Keys Nova ignores are dropped with their direction.
    assert names(cloud, project=project, sort_key=["id", "display_name"],
                 sort_dir=["desc", "asc"]) == ["a", "b", "c"]
    for params in ({"sort_key": "bogus"}, {"sort_dir": "up"},
                   {"sort_key": "display_name", "sort_dir": ["asc", "desc"]}):
        assert_fault(cloud.client.get(f"{API}/servers", params=params,
                                      headers=headers(project=project)), 400, "badRequest")
    assert_fault(cloud.client.get(f"{API}/servers", params={"sort_key": "host"},
                                  headers=headers(project=project)), 403, "forbidden",
                 "Only administrators can sort servers by host")
    assert names(cloud, project=project, admin=True, sort_key="host") == ["a", "c", "b"]


def _walk(cloud, project, **params):
    """Every page of a list, following the next links; the names in order."""
    seen, query = [], {"limit": "2", **params}
    while True:
        response = cloud.client.get(f"{API}/servers", params=query,
                                    headers=headers(project=project))
        body = response.json()
        seen += [server["name"] for server in body["servers"]]
        if "servers_links" not in body:
            return seen
        href = body["servers_links"][0]["href"]
        assert href.startswith("http") and "limit=2" in href
        query = dict(pair.split("=", 1) for pair in href.split("?", 1)[1].split("&"))
        query = {key: value.replace("%5E", "^").replace("%24", "$")
                 for key, value in query.items()}


def test_paging_follows_filters_and_sorts(cloud, project):
    for n in range(7):
        boot(cloud, f"s{n}", project=project)
    boot(cloud, "other", project=project)
    assert _walk(cloud, project, name="^s", sort_key="display_name", sort_dir="asc") == [
        f"s{n}" for n in range(7)]
    assert _walk(cloud, project, name="^s", sort_key="display_name") == [
        f"s{n}" for n in reversed(range(7))]
    assert len(_walk(cloud, project)) == 8
    assert_fault(cloud.client.get(f"{API}/servers", params={"marker": "nope"},
                                  headers=headers(project=project)), 400, "badRequest",
                 "marker [nope] not found")


# --- filters of later microversions ---------------------------------------------------


def test_tag_filters_are_unknown_before_2_26(cloud, project):
    boot(cloud, "untagged", project=project)
    assert names(cloud, "2.25", project=project, tags="x") == ["untagged"]


@pytest.mark.skipif(MAX < (2, 52), reason="tags at create from 2.52")
def test_tag_filters(cloud, project):
    for name, tags in (("ab", ["a", "b"]), ("a", ["a"]), ("c", ["c"]), ("none", [])):
        boot(cloud, name, project=project, version="2.52", tags=tags)

    def tagged(**params):
        return sorted(names(cloud, "2.26", project=project, **params))
    assert tagged(tags="a,b") == ["ab"]
    assert tagged(**{"tags-any": "b,c"}) == ["ab", "c"]
    assert tagged(**{"not-tags": "a,b"}) == ["a", "c", "none"]
    assert tagged(**{"not-tags-any": "a,c"}) == ["none"]


@pytest.mark.skipif(MAX < (2, 73), reason="changes-before from 2.66, locked from 2.73")
def test_changes_before_and_locked(cloud, project):
    server_id = boot(cloud, "locked", project=project)
    boot(cloud, "free", project=project)
    activate(cloud, server_id)
    assert cloud.client.post(f"{API}/servers/{server_id}/action", json={"lock": None},
                             headers=headers(project=project)).status_code == 202
    assert names(cloud, "2.73", project=project, locked="true") == ["locked"]
    assert names(cloud, "2.72", project=project, locked="true") == ["free", "locked"]
    past = "2000-01-01T00:00:00Z"
    assert names(cloud, "2.66", project=project, **{"changes-before": past}) == []
    assert_fault(cloud.client.get(f"{API}/servers", params={
        "changes-since": "2001-01-01T00:00:00Z", "changes-before": past},
        headers=headers("2.66", project=project)), 400, "badRequest")
