"""Image data on local disk: ``<root>/<image id>``, one file per image.

Uploads stream into a temporary file next to the final one while their MD5 and SHA-512
are computed; the file is renamed into place only after the upload was recorded, so a
reader never sees half an image and a refused upload leaves nothing behind.
"""

import hashlib
import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from cloud.domain.image import Digest

CHUNK = 1 << 20
DEFAULT_MAX_SIZE = 1 << 40  # Glance's default image_size_cap: 1 TiB


class ImageTooLarge(Exception):
    """The data is larger than the store accepts (a 413)."""

    def __init__(self, limit: int) -> None:
        super().__init__(f"Image exceeds the storage quota: the limit is {limit} bytes.")


class DataMismatch(Exception):
    """The data received is not what the client announced (a 400)."""


class Staging:
    """An upload in progress: bytes go to a temporary file and through both hashes."""

    def __init__(self, path: Path, *, max_size: int) -> None:
        self.path, self.max_size = path, max_size
        self.size = 0
        self._md5, self._sha512 = hashlib.md5(usedforsecurity=False), hashlib.sha512()
        # Closed by finish() or discard(), whichever comes first.
        self._file: BinaryIO = open(path, "xb")  # noqa: SIM115

    def write(self, chunk: bytes) -> None:
        """Add a chunk (blocking: call it from a worker thread)."""
        self.size += len(chunk)
        if self.size > self.max_size:
            raise ImageTooLarge(self.max_size)
        self._md5.update(chunk)
        self._sha512.update(chunk)
        self._file.write(chunk)

    def finish(self, *, expected_size: int | None = None,
               expected_md5: str | None = None) -> Digest:
        """Flush to disk and return what was measured, checked against the announcement."""
        self._file.flush()
        os.fsync(self._file.fileno())
        self._file.close()
        digest = Digest(size=self.size, checksum=self._md5.hexdigest(),
                        os_hash_value=self._sha512.hexdigest())
        if expected_size is not None and expected_size != digest.size:
            raise DataMismatch(f"Received {digest.size} bytes of the {expected_size}"
                               " announced.")
        if expected_md5 is not None and expected_md5.lower() != digest.checksum:
            raise DataMismatch(f"The data's MD5 {digest.checksum} is not the {expected_md5}"
                               " announced.")
        return digest

    def discard(self) -> None:
        """Forget the upload (idempotent)."""
        self._file.close()
        self.path.unlink(missing_ok=True)


class ImageStore:
    """The image data files of one cloud."""

    def __init__(self, root: Path, *, max_size: int = DEFAULT_MAX_SIZE) -> None:
        self.root, self.max_size = Path(root), max_size

    def path(self, image_id: str) -> Path:
        """Where an image's data lives (ids are UUIDs, so never outside the root)."""
        return self.root / str(uuid.UUID(image_id))

    def stage(self, image_id: str) -> Staging:
        """Start receiving data for an image."""
        self.root.mkdir(parents=True, exist_ok=True)
        temporary = self.root / f".{uuid.UUID(image_id)}.{uuid.uuid4().hex}.part"
        return Staging(temporary, max_size=self.max_size)

    def commit(self, staging: Staging, image_id: str) -> None:
        """Put a finished upload in place, atomically."""
        os.replace(staging.path, self.path(image_id))

    def open(self, image_id: str) -> BinaryIO | None:
        """The data for reading, or None when the image has none. An open file keeps
        its data readable even if the image is deleted meanwhile."""
        try:
            return open(self.path(image_id), "rb")
        except FileNotFoundError:
            return None

    def remove(self, image_id: str) -> None:
        """Delete an image's data (nothing if it has none)."""
        self.path(image_id).unlink(missing_ok=True)


def chunks(data: BinaryIO, size: int = CHUNK) -> Iterator[bytes]:
    """Read a data file in chunks, closing it at the end."""
    with data:
        while chunk := data.read(size):
            yield chunk
