"""The image API (Glance v2) over HTTP: versions, records, data, updates, deletes."""

import hashlib
import os
import uuid

import pytest

from cloud.services import catalog
from tests.http.image_fixtures import (
    ALICE,
    API,
    BOB,
    OCTETS,
    PATCH,
    PUBLIC_URL,
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


@pytest.fixture
def image_dir(api):
    return api.image_dir


# --- version discovery ----------------------------------------------------------------


@pytest.mark.parametrize("path", ["/image", "/image/"])
def test_versions(client, path):
    response = client.get(path)
    assert response.status_code == 300
    versions = response.json()["versions"]
    assert versions[0] == {"id": "v2.16", "status": "CURRENT",
                           "links": [{"rel": "self", "href": f"{PUBLIC_URL}/image/v2/"}]}
    assert {v["status"] for v in versions[1:]} == {"SUPPORTED"}


# --- create, upload, download ---------------------------------------------------------


def test_create_is_queued(client, store):
    head = store.head()
    response = client.post(f"{API}/images", headers=ALICE, json={
        "name": "cirros", "disk_format": "qcow2", "container_format": "bare",
        "min_ram": 64, "tags": ["a", "a", "b"], "os_distro": "cirros"})
    assert response.status_code == 201, response.text
    image = response.json()
    assert response.headers["location"] == f"{PUBLIC_URL}/image/v2/images/{image['id']}"
    assert image["status"] == "queued" and image["visibility"] == "shared"
    assert image["owner"] == "project-a" and image["size"] is None
    assert image["checksum"] is None and image["virtual_size"] is None
    assert image["tags"] == ["a", "b"] and image["min_ram"] == 64
    assert image["os_distro"] == "cirros" and image["protected"] is False
    assert image["self"] == f"/v2/images/{image['id']}"
    assert image["file"] == f"/v2/images/{image['id']}/file"
    assert image["schema"] == "/v2/schemas/image"
    assert store.head() == head + 1
    assert client.get(f"{API}/images/{image['id']}", headers=ALICE).json() == image


def test_create_with_an_empty_body(client):
    response = client.post(f"{API}/images", content=b"",
                           headers={"Content-Type": "application/json"})
    assert response.status_code == 201, response.text
    image = response.json()
    assert image["name"] is None and image["disk_format"] is None
    assert image["status"] == "queued"


def test_create_with_chosen_id_then_duplicate_is_409(client, store):
    chosen = str(uuid.uuid4())
    assert create(client, id=chosen)["id"] == chosen
    head = store.head()
    response = client.post(f"{API}/images", json={"id": chosen})
    assert_glance_fault(response, 409, f"Image with identifier {chosen} already exists!")
    assert store.head() == head


def test_upload_activates_and_download_round_trips(client, image_dir):
    image = create(client, headers=ALICE)
    data = os.urandom(3 * 2**20)
    response = client.put(f"{API}/images/{image['id']}/file", content=data,
                          headers={**OCTETS, **ALICE})
    assert response.status_code == 204, response.text
    shown = client.get(f"{API}/images/{image['id']}", headers=ALICE).json()
    assert shown["status"] == "active" and shown["size"] == len(data)
    assert shown["checksum"] == hashlib.md5(data).hexdigest()
    assert shown["os_hash_algo"] == "sha512"
    assert shown["os_hash_value"] == hashlib.sha512(data).hexdigest()
    assert (image_dir / image["id"]).read_bytes() == data
    assert [p.name for p in image_dir.iterdir() if p.name.endswith(".part")] == []
    download = client.get(f"{API}/images/{image['id']}/file", headers=ALICE)
    assert download.status_code == 200 and download.content == data
    assert download.headers["content-md5"] == shown["checksum"]
    assert download.headers["content-type"] == "application/octet-stream"
    assert download.headers["content-length"] == str(len(data))


def test_a_second_upload_is_409_and_records_nothing(client, store):
    image = create(client)
    put = client.put(f"{API}/images/{image['id']}/file", content=b"one", headers=OCTETS)
    assert put.status_code == 204
    head = store.head()
    again = client.put(f"{API}/images/{image['id']}/file", content=b"two", headers=OCTETS)
    assert_glance_fault(again, 409, "Image status transition from active to saving")
    assert store.head() == head
    assert client.get(f"{API}/images/{image['id']}/file").content == b"one"


def test_an_upload_shorter_than_announced_is_400_and_leaves_nothing(client, store, image_dir):
    image = create(client)
    head = store.head()
    response = client.put(f"{API}/images/{image['id']}/file", content=b"x" * 10,
                          headers={**OCTETS, "X-OpenStack-Image-Size": "11"})
    assert_glance_fault(response, 400, "Received 10 bytes of the 11 announced")
    assert store.head() == head
    assert not (image_dir / image["id"]).exists()
    assert not [p for p in image_dir.iterdir() if p.name.startswith(f".{image['id']}")]
    assert client.get(f"{API}/images/{image['id']}").json()["status"] == "queued"


def test_upload_needs_octet_stream(client, store):
    image = create(client)
    head = store.head()
    response = client.put(f"{API}/images/{image['id']}/file", content=b"x",
                          headers={"Content-Type": "application/json"})
    assert_glance_fault(response, 415)
    assert store.head() == head


def test_download_without_data_is_204(client):
    image = create(client)
    response = client.get(f"{API}/images/{image['id']}/file")
    assert response.status_code == 204 and response.content == b""


def test_the_default_image_is_public_active_and_empty(client):
    shown = client.get(f"{API}/images/{catalog.DEFAULT_IMAGE_ID}", headers=BOB).json()
    assert shown["name"] == catalog.DEFAULT_IMAGE_NAME
    assert (shown["status"], shown["visibility"], shown["size"]) == ("active", "public", 0)
    response = client.get(f"{API}/images/{catalog.DEFAULT_IMAGE_ID}/file", headers=BOB)
    assert response.status_code == 204


# --- list -----------------------------------------------------------------------------


def test_list_filters_by_name_and_ids(client):
    first = create(client, name="filter-me")
    second = create(client, name="filter-me")
    other = create(client, name="filter-other")
    listed = client.get(f"{API}/images", params={"name": "filter-me"}).json()
    assert {i["id"] for i in listed["images"]} == {first["id"], second["id"]}
    assert listed["first"] == "/v2/images" and listed["schema"] == "/v2/schemas/images"
    assert "next" not in listed
    among = client.get(f"{API}/images",
                       params={"id": f"in:{first['id']},{other['id']}"}).json()["images"]
    assert {i["id"] for i in among} == {first["id"], other["id"]}


def test_list_pages_with_limit_and_marker(client):
    ids = [create(client, name="paged")["id"] for _ in range(3)]
    newest_first = ids[::-1]
    page = client.get(f"{API}/images", params={"name": "paged", "limit": 2}).json()
    assert [i["id"] for i in page["images"]] == newest_first[:2]
    assert page["next"].startswith("/v2/images?")
    assert f"marker={newest_first[1]}" in page["next"]
    rest = client.get(f"{API}/images" + page["next"].removeprefix("/v2/images")).json()
    assert [i["id"] for i in rest["images"]] == newest_first[2:]
    assert "next" not in rest
    oldest_first = client.get(f"{API}/images", params={
        "name": "paged", "sort_key": "created_at", "sort_dir": "asc"}).json()["images"]
    assert [i["id"] for i in oldest_first] == ids
    assert_glance_fault(client.get(f"{API}/images", params={"marker": "nope"}), 400)
    assert_glance_fault(client.get(f"{API}/images", params={"sort_key": "nope"}), 400)


# --- update and delete ----------------------------------------------------------------


def test_patch_name_tags_and_properties(client):
    image = create(client, headers=ALICE, os_distro="ubuntu", stale="yes")
    response = patch(client, image["id"],
                     {"op": "replace", "path": "/name", "value": "renamed"},
                     {"op": "replace", "path": "/tags", "value": ["x", "y"]},
                     {"op": "replace", "path": "/os_distro", "value": "debian"},
                     {"op": "add", "path": "/hw_disk_bus", "value": "virtio"},
                     {"op": "remove", "path": "/stale"},
                     {"op": "replace", "path": "/min_disk", "value": 2},
                     headers=ALICE)
    assert response.status_code == 200, response.text
    updated = response.json()
    assert updated["name"] == "renamed" and updated["tags"] == ["x", "y"]
    assert updated["os_distro"] == "debian" and updated["hw_disk_bus"] == "virtio"
    assert "stale" not in updated and updated["min_disk"] == 2
    assert client.get(f"{API}/images/{image['id']}", headers=ALICE).json() == updated


def test_tags_one_by_one(client):
    image = create(client, tags=["old"])
    assert client.put(f"{API}/images/{image['id']}/tags/new").status_code == 204
    assert client.delete(f"{API}/images/{image['id']}/tags/old").status_code == 204
    assert client.get(f"{API}/images/{image['id']}").json()["tags"] == ["new"]
    assert_glance_fault(client.delete(f"{API}/images/{image['id']}/tags/old"), 404)


@pytest.mark.parametrize("changes, status", [
    ([{"op": "replace", "path": "/missing", "value": "x"}], 409),
    ([{"op": "remove", "path": "/missing"}], 409),
    ([{"op": "remove", "path": "/name"}], 403),
    ([{"op": "replace", "path": "/status", "value": "active"}], 403),
    ([{"op": "replace", "path": "/min_ram", "value": -1}], 400),
    ([{"op": "replace", "path": "/visibility", "value": "everyone"}], 400),
    ([{"op": "move", "path": "/name", "value": "x"}], 400),
    ([{"op": "replace", "path": "/name"}], 400),
    ([{"op": "replace", "path": "/tags/0", "value": "x"}], 400),
    ({"op": "replace", "path": "/name", "value": "x"}, 400),
])
def test_refused_patches_record_nothing(client, store, changes, status):
    image = create(client)
    head = store.head()
    response = client.patch(f"{API}/images/{image['id']}", json=changes, headers=PATCH)
    assert_glance_fault(response, status)
    assert store.head() == head


def test_patch_needs_its_media_type(client):
    image = create(client)
    response = client.patch(f"{API}/images/{image['id']}",
                            json=[{"op": "replace", "path": "/name", "value": "x"}])
    assert_glance_fault(response, 415)


def test_a_protected_image_cannot_be_deleted(client, store):
    image = create(client, protected=True)
    head = store.head()
    assert_glance_fault(client.delete(f"{API}/images/{image['id']}"), 403,
                        f"Image {image['id']} is protected and cannot be deleted.")
    assert store.head() == head
    assert patch(client, image["id"],
                 {"op": "replace", "path": "/protected", "value": False}).status_code == 200
    assert client.delete(f"{API}/images/{image['id']}").status_code == 204


def test_delete_removes_record_and_data(client, image_dir):
    image = create(client, name="doomed")
    client.put(f"{API}/images/{image['id']}/file", content=b"bytes", headers=OCTETS)
    assert (image_dir / image["id"]).exists()
    response = client.delete(f"{API}/images/{image['id']}")
    assert response.status_code == 204 and response.content == b""
    assert not (image_dir / image["id"]).exists()
    assert_glance_fault(client.get(f"{API}/images/{image['id']}"), 404)
    assert_glance_fault(client.get(f"{API}/images/{image['id']}/file"), 404)
    assert client.get(f"{API}/images", params={"name": "doomed"}).json()["images"] == []
    assert_glance_fault(client.delete(f"{API}/images/{image['id']}"), 404)


# --- schemas --------------------------------------------------------------------------


def test_schemas(client):
    image = client.get(f"{API}/schemas/image").json()
    assert image["name"] == "image"
    assert image["additionalProperties"] == {"type": "string"}
    assert "shared" in image["properties"]["visibility"]["enum"]
    images = client.get(f"{API}/schemas/images").json()
    assert images["properties"]["images"]["items"] == image
