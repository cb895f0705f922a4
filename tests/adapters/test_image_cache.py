"""Base images on a compute host: fetched once, verified against the digest the image
service recorded, from local files or the real image API served by uvicorn."""

import hashlib
import os
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
import uvicorn

from cloud.adapters.embedded import free_port, port_is_open
from cloud.adapters.eventstore import EventStore
from cloud.adapters.image_cache import ImageCache, ImageChecksumMismatch, ImageData
from cloud.adapters.image_sources import HttpImages, ImageUnavailable, LocalImages
from cloud.adapters.imagestore import ImageStore
from cloud.http.app import create_app
from cloud.projections import projector
from cloud.projections.queries import ReadModels


def local(tmp_path, data: bytes, *, digest: str | None = None) -> LocalImages:
    path = tmp_path / "source"
    path.write_bytes(data)
    return LocalImages({"img": (path, digest or hashlib.sha512(data).hexdigest())})


def test_an_image_is_fetched_once_and_kept_read_only(tmp_path):
    fetched = []
    source = local(tmp_path, b"disk bytes")

    def counting(image_ref: str) -> ImageData:
        fetched.append(image_ref)
        return source(image_ref)

    cache = ImageCache(tmp_path / "_base", counting)
    with ThreadPoolExecutor(4) as pool:
        paths = set(pool.map(cache.base_image, ["img"] * 8))
    assert paths == {tmp_path / "_base" / "img"} and fetched == ["img"]
    assert (tmp_path / "_base" / "img").read_bytes() == b"disk bytes"
    assert (tmp_path / "_base" / "img").stat().st_mode & 0o777 == 0o444


def test_bytes_that_do_not_match_the_digest_leave_nothing_behind(tmp_path):
    cache = ImageCache(tmp_path / "_base", local(tmp_path, b"tampered", digest="ab" * 64))
    with pytest.raises(ImageChecksumMismatch):
        cache.base_image("img")
    assert list((tmp_path / "_base").iterdir()) == []


@pytest.mark.parametrize("ref", ["", "../etc", ".hidden", "a/b"])
def test_image_refs_that_could_escape_the_cache_are_refused(tmp_path, ref):
    with pytest.raises(ValueError):
        ImageCache(tmp_path, local(tmp_path, b"x")).base_image(ref)


@pytest.fixture(scope="module")
def image_api(databases, tmp_path_factory):
    """The real image API (noauth: an admin by default) on a port of its own."""
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


def upload(images: HttpImages, data: bytes | None) -> str:
    created = httpx.post(f"{images.endpoint}/v2/images", json={
        "name": "guest", "disk_format": "qcow2", "container_format": "bare"}).json()
    if data is not None:
        httpx.put(f"{images.endpoint}/v2/images/{created['id']}/file", content=data,
                  headers={"Content-Type": "application/octet-stream"}).raise_for_status()
    return created["id"]


def test_the_image_api_serves_bytes_and_digest_to_the_cache(image_api, tmp_path):
    tokens = []
    images = HttpImages(image_api, lambda: tokens.append("t") or "service-token")
    data = os.urandom(3 * 2**20 + 5)
    image_id = upload(images, data)
    base = ImageCache(tmp_path / "_base", images).base_image(image_id)
    assert base.read_bytes() == data
    assert len(tokens) == 2  # a token per request: the caller renews them


def test_an_image_without_data_or_unknown_is_unavailable(image_api, tmp_path):
    images = HttpImages(image_api, lambda: "service-token")
    with pytest.raises(ImageUnavailable, match="queued"):
        images(upload(images, None))
    with pytest.raises(ImageUnavailable, match="no image"):
        images("3f1ed7a1-0000-4000-8000-000000000000")
