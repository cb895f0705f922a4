"""Keystone v3 over HTTP: versions, password tokens, validation and revocation, the
catalog, and the admin API, against a real PostgreSQL."""

import datetime as dt
import threading

from cloud.http.identity_auth import Keystone
from cloud.services import auth
from cloud.services.auth import Ref
from tests.http.identity_fixtures import PASSWORDS, PUBLIC_URL, cloud, password_auth

__all__ = ["cloud"]  # the fixture, used by name
V3 = "/identity/v3"
COMPUTE = "/compute/v2.1"


def assert_error(response, status, title):
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert error["code"] == status and error["title"] == title and error["message"]


def bearer(token):
    return {"X-Auth-Token": token}


def admin_headers(cloud):
    return bearer(cloud.login("admin", PASSWORDS["admin"]))


# --- versions -------------------------------------------------------------------------


def test_version_list_is_a_300_naming_v3(cloud):
    for path in ("/identity", "/identity/"):
        response = cloud.client.get(path)
        assert response.status_code == 300
        (v3,) = response.json()["versions"]["values"]
        assert v3["id"] == "v3.14" and v3["status"] == "stable"
        assert v3["links"] == [{"rel": "self", "href": f"{PUBLIC_URL}/identity/v3/"}]


def test_v3_document(cloud):
    for path in (V3, V3 + "/"):
        response = cloud.client.get(path)
        assert response.status_code == 200
        assert response.json()["version"]["id"] == "v3.14"


# --- tokens ---------------------------------------------------------------------------


def issue(cloud, body):
    return cloud.client.post(f"{V3}/auth/tokens", json=body)


def test_password_auth_by_name_scoped_to_a_project(cloud):
    response = issue(cloud, password_auth("admin", PASSWORDS["admin"], "admin"))
    assert response.status_code == 201, response.text
    assert response.headers["X-Subject-Token"]
    token = response.json()["token"]
    assert token["methods"] == ["password"] and len(token["audit_ids"]) == 1
    assert token["user"]["name"] == "admin"
    assert token["user"]["domain"] == {"id": "default", "name": "Default"}
    assert token["project"]["name"] == "admin"
    assert token["project"]["domain"] == {"id": "default", "name": "Default"}
    assert {role["name"] for role in token["roles"]} == {"admin", "member", "reader"}
    issued = dt.datetime.fromisoformat(token["issued_at"].replace("Z", "+00:00"))
    expires = dt.datetime.fromisoformat(token["expires_at"].replace("Z", "+00:00"))
    assert expires - issued == dt.timedelta(hours=1)


def test_password_auth_by_id(cloud):
    named = issue(cloud, password_auth("demo", PASSWORDS["demo"], "demo")).json()["token"]
    by_id = issue(cloud, password_auth(named["user"]["id"], PASSWORDS["demo"],
                                       named["project"]["id"], by_id=True))
    assert by_id.status_code == 201, by_id.text
    token = by_id.json()["token"]
    assert token["user"]["name"] == "demo" and token["project"]["name"] == "demo"
    assert {role["name"] for role in token["roles"]} == {"member", "reader"}


def test_scoping_needs_a_role_on_the_project(cloud):
    assert_error(issue(cloud, password_auth("demo", PASSWORDS["demo"], "admin")),
                 401, "Unauthorized")


def test_unscoped_request_uses_the_default_project(cloud):
    response = issue(cloud, password_auth("demo", PASSWORDS["demo"], None))
    assert response.status_code == 201
    assert response.json()["token"]["project"]["name"] == "demo"


def test_bad_password_and_unknown_user_are_401(cloud):
    assert_error(issue(cloud, password_auth("admin", "wrong", "admin")), 401, "Unauthorized")
    assert_error(issue(cloud, password_auth("nobody", "x", "admin")), 401, "Unauthorized")


def test_catalog_lists_compute_identity_and_image(cloud):
    body = issue(cloud, password_auth("demo", PASSWORDS["demo"], "demo")).json()
    catalog = {service["type"]: service for service in body["token"]["catalog"]}
    assert set(catalog) == {"compute", "identity", "image"}
    urls = {"compute": f"{PUBLIC_URL}/compute/v2.1", "identity": f"{PUBLIC_URL}/identity",
            "image": f"{PUBLIC_URL}/image"}
    for kind, service in catalog.items():
        assert service["id"] and service["name"]
        public = [e for e in service["endpoints"] if e["interface"] == "public"]
        assert public == [{"id": public[0]["id"], "interface": "public",
                           "region": "RegionOne", "region_id": "RegionOne",
                           "url": urls[kind]}]


def test_validate_check_and_revoke(cloud):
    token = cloud.login("demo", PASSWORDS["demo"])
    admin = admin_headers(cloud)
    own = cloud.client.get(f"{V3}/auth/tokens", headers={**bearer(token),
                                                          "X-Subject-Token": token})
    assert own.status_code == 200 and own.headers["X-Subject-Token"] == token
    assert own.json()["token"]["user"]["name"] == "demo"
    check = {**admin, "X-Subject-Token": token}
    assert cloud.client.head(f"{V3}/auth/tokens", headers=check).status_code == 200
    assert cloud.client.get(f"{COMPUTE}/servers", headers=bearer(token)).status_code == 200
    assert cloud.client.delete(f"{V3}/auth/tokens", headers=check).status_code == 204
    assert cloud.client.head(f"{V3}/auth/tokens", headers=check).status_code == 404
    compute = cloud.client.get(f"{COMPUTE}/servers", headers=bearer(token))
    assert compute.status_code == 401
    assert compute.json()["unauthorized"]["code"] == 401
    assert_error(cloud.client.get(f"{V3}/auth/tokens", headers={
        **bearer(token), "X-Subject-Token": token}), 401, "Unauthorized")


def test_an_expired_token_is_refused(cloud):
    keystone = Keystone.build(store=cloud.store, read_models=cloud.read_models,
                              public_url=PUBLIC_URL)
    expired = auth.password_token(
        keystone.queries, keystone.credentials, keystone.tokens,
        user=Ref(name="demo"), password=PASSWORDS["demo"], project=Ref(name="demo"),
        now=dt.datetime.now(dt.UTC) - dt.timedelta(hours=2))
    response = cloud.client.get(f"{COMPUTE}/servers", headers=bearer(expired.token))
    assert response.status_code == 401
    assert "expired" in response.json()["unauthorized"]["message"]


def test_a_forged_or_missing_token_is_refused(cloud):
    token = cloud.login("demo", PASSWORDS["demo"])
    body, mac = token.split(".")
    forged = body[:-2] + ("AA" if body[-2:] != "AA" else "BB") + "." + mac
    for headers in ({}, bearer(forged), bearer("garbage")):
        response = cloud.client.get(f"{COMPUTE}/flavors", headers=headers)
        assert response.status_code == 401, headers


# --- admin API ------------------------------------------------------------------------


def test_domains(cloud):
    headers = admin_headers(cloud)
    (domain,) = cloud.client.get(f"{V3}/domains", headers=headers).json()["domains"]
    assert domain["id"] == "default" and domain["name"] == "Default"
    assert cloud.client.get(f"{V3}/domains/default", headers=headers).status_code == 200
    assert_error(cloud.client.get(f"{V3}/domains/other", headers=headers), 404, "Not Found")


def test_roles_exist_from_bootstrap(cloud):
    headers = admin_headers(cloud)
    roles = cloud.client.get(f"{V3}/roles", headers=headers).json()["roles"]
    assert {role["name"] for role in roles} >= {"admin", "member", "reader"}
    (member,) = cloud.client.get(f"{V3}/roles?name=member", headers=headers).json()["roles"]
    shown = cloud.client.get(f"{V3}/roles/{member['id']}", headers=headers).json()["role"]
    assert shown == member
    assert_error(cloud.client.get(f"{V3}/roles/member", headers=headers), 404, "Not Found")


def test_project_crud(cloud):
    headers = admin_headers(cloud)
    created = cloud.client.post(f"{V3}/projects", headers=headers,
                                json={"project": {"name": "crud", "description": "d"}})
    assert created.status_code == 201, created.text
    project = created.json()["project"]
    assert project["domain_id"] == "default" and project["enabled"] is True
    listed = cloud.client.get(f"{V3}/projects?name=crud", headers=headers).json()
    assert listed["projects"] == [project]
    duplicate = cloud.client.post(f"{V3}/projects", headers=headers,
                                  json={"project": {"name": "crud"}})
    assert_error(duplicate, 409, "Conflict")
    patched = cloud.client.patch(f"{V3}/projects/{project['id']}", headers=headers, json={
        "project": {"name": "crud2", "enabled": False}}).json()["project"]
    assert patched["name"] == "crud2" and patched["enabled"] is False
    assert cloud.client.get(f"{V3}/projects?name=crud", headers=headers).json()[
        "projects"] == []
    again = cloud.client.post(f"{V3}/projects", headers=headers,
                              json={"project": {"name": "crud"}})
    assert again.status_code == 201  # the old name was released by the rename
    path = f"{V3}/projects/{project['id']}"
    assert cloud.client.delete(path, headers=headers).status_code == 204
    assert_error(cloud.client.get(path, headers=headers), 404, "Not Found")


def test_user_crud_password_and_grants(cloud):
    headers = admin_headers(cloud)
    project = cloud.client.post(f"{V3}/projects", headers=headers,
                                json={"project": {"name": "team"}}).json()["project"]
    created = cloud.client.post(f"{V3}/users", headers=headers, json={"user": {
        "name": "alice", "password": "pw1", "default_project_id": project["id"],
        "email": "alice@example.org"}})
    assert created.status_code == 201, created.text
    user = created.json()["user"]
    assert "password" not in user and user["email"] == "alice@example.org"
    member = cloud.client.get(f"{V3}/roles?name=member", headers=headers).json()["roles"][0]
    grant = f"{V3}/projects/{project['id']}/users/{user['id']}/roles/{member['id']}"
    assert cloud.client.head(grant, headers=headers).status_code == 404
    assert cloud.client.put(grant, headers=headers).status_code == 204
    assert cloud.client.head(grant, headers=headers).status_code == 204
    assert cloud.client.get(grant, headers=headers).status_code == 204
    token = cloud.login("alice", "pw1", "team")
    me = cloud.client.get(f"{V3}/users/{user['id']}", headers=bearer(token))
    assert me.status_code == 200 and me.json()["user"]["name"] == "alice"
    mine = cloud.client.get(f"{V3}/users/{user['id']}/projects", headers=bearer(token))
    assert [p["name"] for p in mine.json()["projects"]] == ["team"]

    patched = cloud.client.patch(f"{V3}/users/{user['id']}", headers=headers,
                                 json={"user": {"password": "pw2", "email": None}})
    assert patched.status_code == 200 and "email" not in patched.json()["user"]
    assert_error(issue(cloud, password_auth("alice", "pw1", "team")), 401, "Unauthorized")
    token = cloud.login("alice", "pw2", "team")
    assert cloud.client.delete(grant, headers=headers).status_code == 204
    assert cloud.client.get(f"{COMPUTE}/flavors", headers=bearer(token)).status_code == 401

    assert cloud.client.delete(f"{V3}/users/{user['id']}", headers=headers).status_code == 204
    assert cloud.client.get(f"{V3}/users?name=alice", headers=headers).json()["users"] == []


def test_role_assignments(cloud):
    headers = admin_headers(cloud)
    demo = cloud.client.get(f"{V3}/users?name=demo", headers=headers).json()["users"][0]
    listed = cloud.client.get(f"{V3}/role_assignments?user.id={demo['id']}&include_names",
                              headers=headers).json()["role_assignments"]
    assert [(a["role"]["name"], a["scope"]["project"]["name"]) for a in listed] == [
        ("member", "demo")]
    assert listed[0]["user"] == {"id": demo["id"], "name": "demo",
                                 "domain": {"id": "default", "name": "Default"}}
    project = listed[0]["scope"]["project"]["id"]
    by_project = cloud.client.get(f"{V3}/role_assignments?scope.project.id={project}",
                                  headers=headers).json()["role_assignments"]
    assert [a["user"] for a in by_project] == [{"id": demo["id"]}]
    own = bearer(cloud.login("demo", PASSWORDS["demo"]))
    mine = cloud.client.get(f"{V3}/role_assignments?user.id={demo['id']}", headers=own)
    assert mine.status_code == 200
    assert_error(cloud.client.get(f"{V3}/role_assignments", headers=own), 403, "Forbidden")


def test_a_member_cannot_administer(cloud):
    own = bearer(cloud.login("demo", PASSWORDS["demo"]))
    for response in (
            cloud.client.post(f"{V3}/users", headers=own, json={"user": {"name": "eve"}}),
            cloud.client.get(f"{V3}/users", headers=own),
            cloud.client.post(f"{V3}/projects", headers=own, json={"project": {"name": "x"}}),
            cloud.client.get(f"{V3}/projects", headers=own)):
        assert_error(response, 403, "Forbidden")
    assert_error(cloud.client.get(f"{V3}/users"), 401, "Unauthorized")


def test_disabling_a_user_invalidates_its_tokens(cloud):
    token = cloud.user("bob", project="bobs", role="member")
    headers = admin_headers(cloud)
    bob = cloud.client.get(f"{V3}/users?name=bob", headers=headers).json()["users"][0]
    cloud.client.patch(f"{V3}/users/{bob['id']}", headers=headers,
                       json={"user": {"enabled": False}})
    assert cloud.client.get(f"{COMPUTE}/flavors", headers=bearer(token)).status_code == 401
    assert_error(issue(cloud, password_auth("bob", "pw", "bobs")), 401, "Unauthorized")


def test_two_creates_of_one_name_race_and_exactly_one_wins(cloud):
    headers = admin_headers(cloud)
    start, results = threading.Barrier(2), []

    def create():
        start.wait()
        results.append(cloud.client.post(f"{V3}/users", headers=headers,
                                          json={"user": {"name": "racer", "password": "p"}}))

    for _ in range(5):
        results.clear()
        threads = [threading.Thread(target=create) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        statuses = sorted(r.status_code for r in results)
        assert statuses == [201, 409], [r.text for r in results]
        users = cloud.client.get(f"{V3}/users?name=racer", headers=headers).json()["users"]
        assert len(users) == 1
        cloud.client.delete(f"{V3}/users/{users[0]['id']}", headers=headers)
