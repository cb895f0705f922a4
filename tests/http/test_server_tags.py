"""/servers/{id}/tags (2.26), tags at create (2.52), ``tags`` in server detail (2.26).

The API serves up to microversions.MAX_VERSION: tests of later behaviour run once it is
raised that far (the gating below it always runs)."""

import pytest

from cloud.domain import server_edits
from cloud.domain.errors import Invalid
from cloud.domain.flavor import DEFAULT_FLAVORS
from cloud.domain.instance import Instance
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

V = "2.26"
needs_2_26 = pytest.mark.skipif(MAX < (2, 26), reason="served from 2.26")
needs_2_52 = pytest.mark.skipif(MAX < (2, 52), reason="served from 2.52")


@pytest.fixture(scope="module")
def cloud(databases):
    with running_cloud(databases.make()) as cloud:
        yield cloud


@pytest.fixture
def server(cloud):
    server_id = boot(cloud)
    activate(cloud, server_id)
    return server_id


def url(server_id, tag=None):
    return f"{API}/servers/{server_id}/tags" + (f"/{tag}" if tag else "")


def test_tag_routes_do_not_exist_before_2_26(cloud, server):
    client = cloud.client
    for method, path in (("GET", url(server)), ("PUT", url(server)), ("DELETE", url(server)),
                         ("GET", url(server, "a")), ("PUT", url(server, "a")),
                         ("DELETE", url(server, "a"))):
        response = client.request(method, path, json={"tags": ["a"]}, headers=headers("2.25"))
        assert_fault(response, 404, "itemNotFound", "The resource could not be found.")
    shown = client.get(f"{API}/servers/{server}", headers=headers("2.25")).json()["server"]
    assert "tags" not in shown


def test_tags_at_create_are_refused_before_2_52(cloud):
    body = {"server": {"name": "t", "imageRef": catalog.DEFAULT_IMAGE_ID, "flavorRef": "1",
                       "tags": ["a"]}}
    response = cloud.client.post(f"{API}/servers", json=body, headers=headers("2.25"))
    assert_fault(response, 400, "badRequest")


def test_the_per_server_limit_is_50():
    instance = Instance(id="i", name="n", project_id="p", user_id="u",
                        flavor=DEFAULT_FLAVORS[0], image_ref="img", vm_state="active",
                        task_state=None, tags=tuple(f"t{n:02}" for n in range(50)))
    with pytest.raises(Invalid, match="per-server limit 50"):
        server_edits.add_tag(instance, "i", "one-more")
    assert server_edits.add_tag(instance, "i", "t00") == []
    with pytest.raises(Invalid, match="The number of tags in request is 51"):
        server_edits.set_tags(instance, "i", [f"x{n}" for n in range(51)])


@needs_2_26
def test_replace_list_check_delete(cloud, server):
    client = cloud.client
    assert client.get(url(server), headers=headers(V)).json() == {"tags": []}
    response = client.put(url(server), json={"tags": ["web", "db", "web"]},
                          headers=headers(V))
    assert response.status_code == 200 and response.json() == {"tags": ["db", "web"]}
    assert client.get(url(server, "db"), headers=headers(V)).status_code == 204
    assert_fault(client.get(url(server, "nope"), headers=headers(V)), 404, "itemNotFound",
                 f"Server {server} has no tag 'nope'")
    added = client.put(url(server, "new"), headers=headers(V))
    assert added.status_code == 201
    assert added.headers["location"].endswith(f"/servers/{server}/tags/new")
    assert client.put(url(server, "new"), headers=headers(V)).status_code == 204
    shown = client.get(f"{API}/servers/{server}", headers=headers(V)).json()["server"]
    assert shown["tags"] == ["db", "new", "web"]
    assert client.delete(url(server, "web"), headers=headers(V)).status_code == 204
    assert_fault(client.delete(url(server, "web"), headers=headers(V)), 404, "itemNotFound",
                 f"Instance {server} has no tag 'web'")
    assert client.delete(url(server), headers=headers(V)).status_code == 204
    assert client.get(url(server), headers=headers(V)).json() == {"tags": []}


@needs_2_26
@pytest.mark.parametrize("tags", [["a/b"], ["a,b"], [""], ["x" * 61], [5], "a",
                                  [f"t{n}" for n in range(51)]])
def test_bad_tag_lists_are_400(cloud, server, tags):
    assert_fault(cloud.client.put(url(server), json={"tags": tags}, headers=headers(V)),
                 400, "badRequest")
    assert cloud.client.get(url(server), headers=headers(V)).json() == {"tags": []}


@needs_2_26
def test_bad_single_tags_are_400(cloud, server):
    for tag in ("a,b", "x" * 61):
        assert_fault(cloud.client.put(url(server, tag), headers=headers(V)), 400,
                     "badRequest")


@needs_2_26
def test_building_servers_refuse_tag_changes(cloud):
    server_id = boot(cloud)
    assert_fault(cloud.client.put(url(server_id, "a"), headers=headers(V)), 409,
                 "conflictingRequest",
                 f"Cannot 'update tag' instance {server_id} while it is in vm_state building")
    assert cloud.client.get(url(server_id), headers=headers(V)).status_code == 200


@needs_2_26
def test_reach_and_roles(cloud, server):
    assert_fault(cloud.client.get(url(server), headers=headers(V, project="p2")), 404,
                 "itemNotFound")
    assert_fault(cloud.client.put(url(server, "a"), headers=headers(V, reader=True)), 403,
                 "forbidden")


@needs_2_52
def test_tags_at_create(cloud):
    server_id = boot(cloud, version="2.52", tags=["b", "a"])
    shown = cloud.client.get(f"{API}/servers/{server_id}",
                             headers=headers("2.52")).json()["server"]
    assert shown["tags"] == ["a", "b"]
    body = {"server": {"name": "t", "imageRef": catalog.DEFAULT_IMAGE_ID, "flavorRef": "1",
                       "tags": ["bad/tag"], "networks": "none"}}
    assert_fault(cloud.client.post(f"{API}/servers", json=body, headers=headers("2.52")),
                 400, "badRequest")
