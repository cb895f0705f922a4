"""Where a compute agent gets image bytes: ImageFetchers for cloud/adapters/image_cache.py.

- ``LocalImages``: files on this host with known digests (tests, single-host clouds).
- ``HttpImages``: the image API, ``GET /image/v2/images/{id}`` for the digest recorded at
  upload and ``GET .../file`` for the bytes, with a token from the agent's service account.
"""

import json
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import BinaryIO

from cloud.adapters.image_cache import ImageData

CHUNK = 1 << 20


class ImageUnavailable(Exception):
    """The image is unknown, not active, or has no recorded digest to verify against."""


def _chunks(file: BinaryIO) -> Iterator[bytes]:
    with file:
        while chunk := file.read(CHUNK):
            yield chunk


class LocalImages:
    """Images that are files here: ``{image id: (path, sha512 hex digest)}``."""

    def __init__(self, images: Mapping[str, tuple[Path, str]]) -> None:
        self.images = dict(images)

    def __call__(self, image_ref: str) -> ImageData:
        if image_ref not in self.images:
            raise ImageUnavailable(f"no local file for image {image_ref}")
        path, sha512 = self.images[image_ref]
        return ImageData(os_hash_algo="sha512", os_hash_value=sha512,
                         chunks=_chunks(path.open("rb")))


class HttpImages:
    """The image API at ``endpoint`` (e.g. ``http://api:8774/image``); ``token`` returns
    a valid ``X-Auth-Token`` (the agent's service credentials, renewed by the caller)."""

    def __init__(self, endpoint: str, token: Callable[[], str], *,
                 timeout: float = 60.0) -> None:
        self.endpoint, self.token, self.timeout = endpoint.rstrip("/"), token, timeout

    def _open(self, path: str) -> BinaryIO:
        request = urllib.request.Request(f"{self.endpoint}/v2/images/{path}",
                                         headers={"X-Auth-Token": self.token()})
        return urllib.request.urlopen(request, timeout=self.timeout)  # noqa: S310

    def __call__(self, image_ref: str) -> ImageData:
        try:
            with self._open(image_ref) as response:
                image = json.load(response)
        except urllib.error.HTTPError as error:
            if error.code == 404:
                raise ImageUnavailable(f"no image {image_ref}") from error
            raise
        if image.get("status") != "active" or not image.get("os_hash_value"):
            raise ImageUnavailable(f"image {image_ref} is {image.get('status')}, "
                                   "without data to boot from")
        return ImageData(os_hash_algo=image["os_hash_algo"],
                         os_hash_value=image["os_hash_value"],
                         chunks=_chunks(self._open(f"{image_ref}/file")))
