"""Base images cached on a compute host, each fetched once and verified by its checksum.

A fetcher (local files, or the image API over HTTP: cloud/adapters/image_sources.py) gives
the image's bytes and the digest the image service recorded at upload; the cache streams
the bytes into a temporary file while hashing them, and only a file whose digest matches
is renamed into ``<cache>/<image id>``. A reader never sees a partial or corrupt base.
"""

import hashlib
import os
import threading
from collections.abc import Callable, Iterable
from pathlib import Path

import msgspec


class ImageData(msgspec.Struct, frozen=True, kw_only=True):
    """An image's bytes as a stream, with the digest the image service recorded."""

    os_hash_algo: str  # "sha512" as Glance records it; any hashlib name works
    os_hash_value: str
    chunks: Iterable[bytes]


ImageFetcher = Callable[[str], ImageData]


class ImageChecksumMismatch(Exception):
    """The bytes received hash to something else than the image service recorded."""

    def __init__(self, image_ref: str, expected: str, got: str) -> None:
        super().__init__(f"image {image_ref}: expected checksum {expected}, got {got}")
        self.image_ref = image_ref


class ImageCache:
    """``<directory>/<image id>``: one verified base file per image, shared by guests."""

    def __init__(self, directory: Path, fetch: ImageFetcher) -> None:
        self.directory, self.fetch = directory, fetch
        self._locks: dict[str, threading.Lock] = {}
        self._locks_lock = threading.Lock()

    def base_image(self, image_ref: str) -> Path:
        """The cached base file, fetched and verified first if it is not there yet."""
        path = self.directory / _safe_name(image_ref)
        with self._locks_lock:
            lock = self._locks.setdefault(image_ref, threading.Lock())
        with lock:  # two guests of one image download it once
            if not path.exists():
                self._download(image_ref, path)
        return path

    def _download(self, image_ref: str, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        data = self.fetch(image_ref)
        partial = path.with_name(f".{path.name}.{os.getpid()}.part")
        digest = hashlib.new(data.os_hash_algo)
        try:
            with partial.open("wb") as file:
                for chunk in data.chunks:
                    digest.update(chunk)
                    file.write(chunk)
                file.flush()
                os.fsync(file.fileno())
            if digest.hexdigest() != data.os_hash_value.lower():
                raise ImageChecksumMismatch(image_ref, data.os_hash_value, digest.hexdigest())
            os.chmod(partial, 0o444)  # bases are shared by overlays: never written again
            partial.rename(path)
        finally:
            partial.unlink(missing_ok=True)


def _safe_name(image_ref: str) -> str:
    """Image ids are UUIDs; anything that could leave the directory is refused."""
    if not image_ref or "/" in image_ref or image_ref.startswith("."):
        raise ValueError(f"not an image id: {image_ref!r}")
    return image_ref
