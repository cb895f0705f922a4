"""openstacksdk's image proxy, unchanged, against the image API served by uvicorn."""

import hashlib
import os
import threading
import time

import openstack
import pytest
import uvicorn

from cloud.adapters.embedded import free_port, port_is_open
from cloud.adapters.eventstore import EventStore
from cloud.adapters.imagestore import ImageStore
from cloud.http.app import create_app
from cloud.projections import projector
from cloud.projections.queries import ReadModels


@pytest.fixture(scope="module")
def image_url(databases, tmp_path_factory):
    url = databases.make()
    store, read_models = EventStore(url), ReadModels(url)
    with projector.in_background(url):
        port = free_port()
        app = create_app(store=store, read_models=read_models,
                         public_url=f"http://127.0.0.1:{port}",
                         image_store=ImageStore(tmp_path_factory.mktemp("images")))
        server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port,
                                               log_level="warning"))
        serving = threading.Thread(target=server.run, daemon=True)
        serving.start()
        deadline = time.monotonic() + 10
        while not port_is_open("127.0.0.1", port) and time.monotonic() < deadline:
            time.sleep(0.05)
        yield f"http://127.0.0.1:{port}/image"
        server.should_exit = True
        serving.join(timeout=10)
    read_models.close()
    store.close()


@pytest.fixture(scope="module")
def conn(image_url):
    # Version discovery on /image picks v2, as against a real Glance.
    return openstack.connect(auth_type="none", auth={"endpoint": image_url},
                             image_endpoint_override=image_url)


def test_sdk_uploads_finds_downloads_updates_and_deletes(conn):
    data = os.urandom(2**20 + 7)
    image = conn.image.create_image(name="sdk-image", data=data, disk_format="raw",
                                    container_format="bare", allow_duplicates=True,
                                    validate_checksum=True, os_distro="cirros")
    assert image.status == "active" and image.size == len(data)
    assert image.checksum == hashlib.md5(data).hexdigest()
    assert conn.image.find_image("sdk-image").id == image.id
    assert conn.image.download_image(image).content == data
    conn.image.update_image(image, name="sdk-renamed", min_ram=64)
    conn.image.update_image_properties(image, hw_disk_bus="virtio")
    conn.image.add_tag(image, "t1")
    shown = conn.image.get_image(image.id)
    assert (shown.name, shown.min_ram, shown.tags) == ("sdk-renamed", 64, ["t1"])
    assert shown.hw_disk_bus == "virtio" and shown.os_distro == "cirros"
    paged = [i.id for i in conn.image.images(limit=1)]  # follows Glance's "next"
    assert len(paged) == len(set(paged)) == 2 and image.id in paged
    conn.image.delete_image(image)
    assert conn.image.find_image("sdk-renamed") is None
    with pytest.raises(openstack.exceptions.NotFoundException, match="No image found"):
        conn.image.get_image(image.id)
