"""Nova's default policy on every compute endpoint that exists: reader, member and admin,
each on a server of their own project and of another one. Another project's server is
404 (its existence is not confirmed); no token is 401."""

import pytest

from cloud.services import catalog
from tests.http.identity_fixtures import PASSWORDS, cloud

__all__ = ["cloud"]  # the fixture, used by name
API = "/compute/v2.1"
ROLES = ("reader", "member", "admin")


@pytest.fixture(scope="module")
def tokens(cloud):
    """A token per role: reader and member in project ``own``, admin in ``admin``; the
    user ``stranger`` is a member of project ``other``."""
    return {"reader": cloud.user("r1", project="own", role="reader"),
            "member": cloud.user("m1", project="own", role="member"),
            "admin": cloud.login("admin", PASSWORDS["admin"]),
            "stranger": cloud.user("s1", project="other", role="member")}


def call(cloud, method, path, token=None, **kwargs):
    headers = {"X-Auth-Token": token} if token else {}
    return cloud.client.request(method, f"{API}{path}", headers=headers, **kwargs)


def boot(cloud, token, name):
    body = {"server": {"name": name, "imageRef": catalog.DEFAULT_IMAGE_ID, "flavorRef": "1"}}
    response = call(cloud, "POST", "/servers", token, json=body)
    assert response.status_code == 202, response.text
    return response.json()["server"]["id"]


@pytest.fixture
def servers(cloud, tokens):
    """One server in project ``own`` and one in ``other``, removed afterwards."""
    made = {"own": boot(cloud, tokens["member"], "own-vm"),
            "other": boot(cloud, tokens["stranger"], "other-vm")}
    yield made
    for server_id in made.values():
        call(cloud, "DELETE", f"/servers/{server_id}", tokens["admin"])


def listed(cloud, token, path, **params):
    response = call(cloud, "GET", path, token, params=params)
    assert response.status_code == 200, response.text
    return {server["id"] for server in response.json()["servers"]}


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("path", ["/servers", "/servers/detail"])
def test_lists_show_only_the_callers_project(cloud, tokens, servers, role, path):
    seen = listed(cloud, tokens[role], path)
    assert servers["other"] not in seen
    assert (servers["own"] in seen) == (role != "admin")  # admin's project is "admin"


@pytest.mark.parametrize("path", ["/servers", "/servers/detail"])
def test_only_admins_list_all_projects(cloud, tokens, servers, path):
    assert set(servers.values()) <= listed(cloud, tokens["admin"], path, all_tenants="1")
    for role in ("reader", "member"):
        response = call(cloud, "GET", path, tokens[role], params={"all_tenants": "1"})
        assert response.status_code == 403, response.text
        assert response.json()["forbidden"]["code"] == 403


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("target", ["own", "other"])
def test_show(cloud, tokens, servers, role, target):
    response = call(cloud, "GET", f"/servers/{servers[target]}", tokens[role])
    visible = role == "admin" or target == "own"
    assert response.status_code == (200 if visible else 404), response.text
    if not visible:
        assert response.json()["itemNotFound"]["message"] == (
            f"Instance {servers[target]} could not be found.")


@pytest.mark.parametrize("role,status", [("reader", 403), ("member", 202), ("admin", 202)])
def test_create(cloud, tokens, role, status):
    body = {"server": {"name": f"by-{role}", "imageRef": catalog.DEFAULT_IMAGE_ID,
                       "flavorRef": "1"}}
    response = call(cloud, "POST", "/servers", tokens[role], json=body)
    assert response.status_code == status, response.text
    if status == 202:
        server_id = response.json()["server"]["id"]
        shown = call(cloud, "GET", f"/servers/{server_id}", tokens[role]).json()["server"]
        assert shown["tenant_id"] != "" and shown["user_id"] != ""
        call(cloud, "DELETE", f"/servers/{server_id}", tokens["admin"])


@pytest.mark.parametrize("role,target,status", [
    ("reader", "own", 403), ("reader", "other", 404),
    ("member", "own", 204), ("member", "other", 404),
    ("admin", "own", 204), ("admin", "other", 204)])
def test_delete(cloud, tokens, servers, role, target, status):
    response = call(cloud, "DELETE", f"/servers/{servers[target]}", tokens[role])
    assert response.status_code == status, response.text
    still_there = call(cloud, "GET", f"/servers/{servers[target]}", tokens["admin"])
    assert still_there.status_code == (404 if status == 204 else 200)


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("path", ["/flavors", "/flavors/detail", "/flavors/1"])
def test_everyone_reads_flavors(cloud, tokens, role, path):
    assert call(cloud, "GET", path, tokens[role]).status_code == 200


@pytest.mark.parametrize("method,path", [
    ("GET", "/servers"), ("GET", "/servers/detail"), ("GET", "/servers/x"),
    ("POST", "/servers"), ("DELETE", "/servers/x"), ("GET", "/flavors"),
    ("GET", "/flavors/detail"), ("GET", "/flavors/1")])
def test_no_token_is_401(cloud, method, path):
    response = call(cloud, method, path, json={} if method == "POST" else None)
    assert response.status_code == 401
    assert response.json() == {"unauthorized": {
        "code": 401, "message": "The request you have made requires authentication."}}


def test_the_version_document_needs_no_token(cloud):
    assert cloud.client.get(API).status_code == 200
    assert cloud.client.get("/compute/").status_code == 200


def test_servers_record_who_created_them(cloud, tokens, servers):
    shown = call(cloud, "GET", f"/servers/{servers['own']}", tokens["member"]).json()
    project = cloud.client.get("/identity/v3/projects?name=own", headers={
        "X-Auth-Token": tokens["admin"]}).json()["projects"][0]
    assert shown["server"]["tenant_id"] == project["id"]
