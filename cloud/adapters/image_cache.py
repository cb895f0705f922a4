"""Base images cached on a compute host, each fetched once and verified by its checksum.

A fetcher (local files, or the image API over HTTP: cloud/adapters/image_sources.py) gives
the image's bytes and the digest the image service recorded at upload; the cache streams
the bytes into a temporary file while hashing them, and only a file whose digest matches
is renamed into ``<cache>/<image id>``. A reader never sees a partial or corrupt base.

Bases no guest disk uses any more are removed once they have gone unused for a while
(``prune``, as Nova's image cache manager does): a base's modification time is when it
was last handed out or seen in use.
"""

import hashlib
import os
import threading
import time
from collections.abc import Callable, Collection, Iterable
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

    def _lock(self, image_ref: str) -> threading.Lock:
        with self._locks_lock:
            return self._locks.setdefault(image_ref, threading.Lock())

    def base_image(self, image_ref: str) -> Path:
        """The cached base file, fetched and verified first if it is not there yet."""
        path = self.directory / _safe_name(image_ref)
        with self._lock(image_ref):  # two guests of one image download it once
            if path.exists():
                os.utime(path)  # in use from now: a prune running meanwhile keeps it
            else:
                self._download(image_ref, path)
        return path

    def prune(self, in_use: Collection[Path], *, unused_for: float) -> list[str]:
        """Remove the bases that no path in ``in_use`` is and that have not been handed
        out for ``unused_for`` seconds, and downloads left half-done as long ago; returns
        the image ids removed. Bases in use are marked as seen in use now."""
        if not self.directory.is_dir():
            return []
        used = {path.resolve() for path in in_use}
        cutoff = time.time() - unused_for
        removed = []
        for path in sorted(self.directory.iterdir()):
            if path.name.startswith("."):  # a download that died with its process
                if path.stat().st_mtime < cutoff:
                    path.unlink(missing_ok=True)
                continue
            with self._lock(path.name):
                if path.resolve() in used:
                    os.utime(path)
                elif path.stat().st_mtime < cutoff:
                    path.unlink()
                    removed.append(path.name)
        return removed

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
