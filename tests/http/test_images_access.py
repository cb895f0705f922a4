"""The image API (Glance v2) over HTTP: who sees and changes what, and refusals that
record nothing."""

import uuid

import pytest

from tests.http.image_fixtures import (
    ALICE,
    API,
    BOB,
    OCTETS,
    READER,
    assert_glance_fault,
    create,
    patch,
    serve,
)


@pytest.fixture(scope="module")
def api(databases, tmp_path_factory):
    with serve(databases, tmp_path_factory.mktemp("images")) as api:
        yield api


@pytest.fixture
def client(api):
    return api.client


@pytest.fixture
def store(api):
    return api.store


# --- visibility and ownership ---------------------------------------------------------


def test_a_private_image_is_its_projects_alone(client, store):
    image = create(client, headers=ALICE, name="alice-private", visibility="private")
    assert client.get(f"{API}/images/{image['id']}", headers=ALICE).status_code == 200
    mine = client.get(f"{API}/images", params={"name": "alice-private"}, headers=ALICE)
    assert [i["id"] for i in mine.json()["images"]] == [image["id"]]
    theirs = client.get(f"{API}/images", params={"name": "alice-private"}, headers=BOB)
    assert theirs.json()["images"] == []
    head = store.head()
    for response in (
            client.get(f"{API}/images/{image['id']}", headers=BOB),
            client.get(f"{API}/images/{image['id']}/file", headers=BOB),
            patch(client, image["id"], {"op": "replace", "path": "/name", "value": "x"},
                  headers=BOB),
            client.delete(f"{API}/images/{image['id']}", headers=BOB)):
        assert_glance_fault(response, 404, f"No image found with ID {image['id']}")
    assert store.head() == head
    listed = client.get(f"{API}/images", params={"name": "alice-private"}).json()["images"]
    assert [i["id"] for i in listed] == [image["id"]]  # admins see every project's images


def test_only_admins_publicize(client, store):
    head = store.head()
    refused = client.post(f"{API}/images", json={"visibility": "public"}, headers=ALICE)
    assert_glance_fault(refused, 403, "publicize_image")
    image = create(client, headers=ALICE, name="to-publish")
    head = store.head()
    assert_glance_fault(patch(client, image["id"], {"op": "replace", "path": "/visibility",
                                                    "value": "public"}, headers=ALICE), 403)
    assert store.head() == head
    published = patch(client, image["id"],
                      {"op": "replace", "path": "/visibility", "value": "public"})
    assert published.status_code == 200 and published.json()["visibility"] == "public"
    assert client.get(f"{API}/images/{image['id']}", headers=BOB).status_code == 200
    assert_glance_fault(patch(client, image["id"], {"op": "replace", "path": "/name",
                                                    "value": "mine"}, headers=BOB), 403)


def test_readers_change_nothing(client, store):
    image = create(client, headers=ALICE)
    head = store.head()
    assert_glance_fault(client.post(f"{API}/images", json={}, headers=READER), 403)
    assert_glance_fault(client.put(f"{API}/images/{image['id']}/file", content=b"x",
                                   headers={**OCTETS, **READER}), 403)
    assert_glance_fault(client.delete(f"{API}/images/{image['id']}", headers=READER), 403)
    assert client.get(f"{API}/images/{image['id']}", headers=READER).status_code == 200
    assert store.head() == head


# --- malformed requests ---------------------------------------------------------------


@pytest.mark.parametrize("body, status", [
    (b"{not json", 400),
    (b"[1, 2]", 400),
    (b'{"id": "not-a-uuid"}', 400),
    (b'{"name": 5}', 400),
    (b'{"visibility": "everyone"}', 400),
    (b'{"disk_format": "floppy"}', 400),
    (b'{"min_ram": -1}', 400),
    (b'{"min_disk": "1"}', 400),
    (b'{"protected": "yes"}', 400),
    (b'{"tags": "a"}', 400),
    (b'{"os_distro": 7}', 400),
    (b'{"status": "active"}', 403),
    (b'{"size": 1}', 403),
    (b'{"deleted": true}', 403),
])
def test_bad_create_bodies_are_refused_in_glance_format(client, store, body, status):
    head = store.head()
    response = client.post(f"{API}/images", content=body,
                           headers={"Content-Type": "application/json"})
    assert_glance_fault(response, status)
    assert store.head() == head


def test_unknown_or_malformed_ids_are_404(client):
    assert_glance_fault(client.get(f"{API}/images/{uuid.uuid4()}"), 404)
    assert_glance_fault(client.get(f"{API}/images/not-a-uuid"), 404)
    assert_glance_fault(client.put(f"{API}/images/not-a-uuid/file", content=b"x",
                                   headers=OCTETS), 404)
