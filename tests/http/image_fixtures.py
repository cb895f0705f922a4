"""Fixtures and helpers shared by the image API tests: a real PostgreSQL log and read
models, a real image directory, the app through Litestar's TestClient."""

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import NamedTuple

from litestar.testing import TestClient

from cloud.adapters.eventstore import EventStore
from cloud.adapters.imagestore import ImageStore
from cloud.http.app import create_app
from cloud.projections import projector
from cloud.projections.queries import ReadModels

PUBLIC_URL = "http://cloud.test:8774"
API = "/image/v2"
PATCH = {"Content-Type": "application/openstack-images-v2.1-json-patch"}
OCTETS = {"Content-Type": "application/octet-stream"}
ALICE = {"X-Auth-User": "alice", "X-Auth-Project-Id": "project-a", "X-Roles": "member"}
BOB = {"X-Auth-User": "bob", "X-Auth-Project-Id": "project-b", "X-Roles": "member"}
READER = {"X-Auth-User": "rita", "X-Auth-Project-Id": "project-a", "X-Roles": "reader"}


class ImageApi(NamedTuple):
    client: TestClient
    store: EventStore
    image_dir: Path


@contextlib.contextmanager
def serve(databases, image_dir: Path) -> Iterator[ImageApi]:
    """The app on a fresh database, with the projector folding in a thread."""
    database_url = databases.make()
    store, read_models = EventStore(database_url), ReadModels(database_url)
    app = create_app(store=store, read_models=read_models, public_url=PUBLIC_URL,
                     image_store=ImageStore(image_dir))
    try:
        with projector.in_background(database_url), TestClient(app) as client:
            yield ImageApi(client, store, image_dir)
    finally:
        read_models.close()
        store.close()


def create(client, headers=None, **fields):
    body = {"name": "img", "disk_format": "qcow2", "container_format": "bare", **fields}
    response = client.post(f"{API}/images", json=body, headers=headers or {})
    assert response.status_code == 201, response.text
    return response.json()


def patch(client, image_id, *changes, headers=None):
    return client.patch(f"{API}/images/{image_id}", json=list(changes),
                        headers={**PATCH, **(headers or {})})


def assert_glance_fault(response, status, detail=None):
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"message", "code", "title"}
    assert body["code"].startswith(f"{status} ")
    if detail is not None:
        assert detail in body["message"]
