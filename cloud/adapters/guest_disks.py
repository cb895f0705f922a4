"""A guest's root disk: a qcow2 overlay on the cached base image, through ``qemu-img``."""

import json
import subprocess
from pathlib import Path

GIB = 2**30


def _qemu_img(*args: str) -> str:
    return subprocess.run(["qemu-img", *args], check=True, capture_output=True,
                          text=True).stdout


def virtual_size(path: Path) -> int:
    """The disk's size as the guest sees it, in bytes."""
    return int(json.loads(_qemu_img("info", "--output=json", str(path)))["virtual-size"])


def create_overlay(base: Path, disk: Path, *, size_gb: int) -> None:
    """A fresh copy-on-write disk over ``base`` (replacing any old one), ``size_gb`` large
    or the base's own size when that is larger (flavor disk 0 means "the image's size")."""
    disk.parent.mkdir(parents=True, exist_ok=True)
    info = json.loads(_qemu_img("info", "--output=json", str(base)))
    if "backing-filename" in info:  # an image pointing at host files must not be used
        raise ValueError(f"base image {base} has a backing file")
    base_format = info["format"]
    size = max(size_gb * GIB, int(info["virtual-size"]))
    partial = disk.with_name(f".{disk.name}.part")
    partial.unlink(missing_ok=True)
    _qemu_img("create", "-q", "-f", "qcow2", "-b", str(base), "-F", base_format,
              str(partial), str(size))
    partial.replace(disk)


def backing_file(disk: Path) -> Path | None:
    """The file a disk is an overlay of (None for a standalone disk). Reads the disk of
    a running guest too (``-U``: QEMU holds a lock on it)."""
    info = json.loads(_qemu_img("info", "-U", "--output=json", str(disk)))
    backing = info.get("full-backing-filename") or info.get("backing-filename")
    return None if backing is None else Path(backing)


def grow(disk: Path, *, size_gb: int) -> None:
    """Make the disk ``size_gb`` large if it is smaller; never shrink it."""
    if size_gb * GIB > virtual_size(disk):
        _qemu_img("resize", "-q", str(disk), str(size_gb * GIB))
