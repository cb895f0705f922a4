"""Root disks and domain XML: qcow2 overlays on the cached base, made by qemu-img, used by
LibvirtDriver on libvirt's test driver; the XML is checked as the pure function it is."""

import hashlib
import json
import os
import shutil
import subprocess
import time
import uuid
from xml.etree import ElementTree

import pytest

from cloud.adapters.image_sources import LocalImages
from cloud.adapters.libvirt_driver import LibvirtDriver
from cloud.adapters.libvirt_xml import GuestFiles, render
from cloud.agents.hypervisor import GuestSpec
from cloud.up import node_file

GIB = 2**30
needs_qemu_img = pytest.mark.skipif(shutil.which("qemu-img") is None,
                                    reason="qemu-img is not installed (apt: qemu-utils)")


def spec(**changes) -> GuestSpec:
    fields = {"instance_id": str(uuid.uuid4()), "name": "a<b", "vcpus": 2,
              "memory_mb": 256, "disk_gb": 1, "image_ref": "one"} | changes
    return GuestSpec(**fields)


def test_the_domain_xml_has_the_flavor_a_virtio_disk_and_a_console_file(tmp_path):
    guest = spec()
    files = GuestFiles(disk=tmp_path / "disk", console_log=tmp_path / "console.log")
    domain = ElementTree.fromstring(render(guest, domain_type="qemu", files=files))
    assert domain.get("type") == "qemu" and domain.find("cpu") is None
    assert (domain.findtext("vcpu"), domain.findtext("memory")) == ("2", "256")
    assert domain.findtext("title") == "a<b"
    disk = domain.find("devices/disk")
    assert disk.find("source").get("file") == str(tmp_path / "disk")
    assert (disk.find("driver").get("type"), disk.find("target").get("bus")) == (
        "qcow2", "virtio")
    serial = domain.find("devices/serial")
    assert serial.get("type") == "file"
    assert serial.find("source").attrib == {"path": str(tmp_path / "console.log"),
                                            "append": "on"}
    kvm = ElementTree.fromstring(render(guest, domain_type="kvm", files=files))
    assert kvm.find("cpu").get("mode") == "host-passthrough"


def qemu_img_info(path) -> dict:
    return json.loads(subprocess.run(["qemu-img", "info", "--output=json", str(path)],
                                     check=True, capture_output=True, text=True).stdout)


@pytest.fixture
def driver(tmp_path):
    bases = {}
    for name in ("one", "two"):
        path = tmp_path / f"{name}.qcow2"
        subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", str(path), "64M"],
                       check=True)
        bases[name] = (path, hashlib.sha512(path.read_bytes()).hexdigest())
    driver = LibvirtDriver(f"test://{node_file(tmp_path, 'h1')}",
                           instances_path=tmp_path / "instances", hostname="h1",
                           fetch_image=LocalImages(bases))
    yield driver
    driver.close()


@needs_qemu_img
def test_spawn_rebuild_and_resize_manage_the_overlay(driver, tmp_path):
    guest = spec()
    driver.spawn(guest)
    disk = tmp_path / "instances" / guest.instance_id / "disk"
    info = qemu_img_info(disk)
    assert info["backing-filename"] == str(tmp_path / "instances" / "_base" / "one")
    assert (info["format"], info["virtual-size"]) == ("qcow2", 1 * GIB)

    driver.rebuild(spec(instance_id=guest.instance_id, image_ref="two"))
    assert qemu_img_info(disk)["backing-filename"].endswith("/_base/two")
    driver.resize(spec(instance_id=guest.instance_id, image_ref="two", disk_gb=3))
    assert qemu_img_info(disk)["virtual-size"] == 3 * GIB
    driver.resize(spec(instance_id=guest.instance_id, image_ref="two", disk_gb=1))
    assert qemu_img_info(disk)["virtual-size"] == 3 * GIB  # never shrunk

    driver.destroy(guest.instance_id)
    assert not disk.parent.exists()
    assert sorted(p.name for p in (tmp_path / "instances" / "_base").iterdir()) == [
        "one", "two"]


@needs_qemu_img
def test_a_disk_of_size_zero_takes_the_image_size(driver, tmp_path):
    guest = spec(disk_gb=0)
    driver.spawn(guest)
    disk = tmp_path / "instances" / guest.instance_id / "disk"
    assert qemu_img_info(disk)["virtual-size"] == 64 * 2**20


def age(path, days: float) -> None:
    then = time.time() - days * 86400
    os.utime(path, (then, then))


@needs_qemu_img
def test_a_base_no_disk_uses_is_pruned_once_it_has_gone_unused_long_enough(driver, tmp_path):
    bases = tmp_path / "instances" / "_base"
    kept, gone = spec(image_ref="one"), spec(image_ref="two")
    driver.spawn(kept)
    driver.spawn(gone)
    driver.destroy(gone.instance_id)
    # Both used a moment ago: nothing goes, however unused "two" is now.
    assert driver.prune_images(unused_for=86400) == []
    assert sorted(p.name for p in bases.iterdir()) == ["one", "two"]

    for name in ("one", "two"):
        age(bases / name, days=2)
    (bases / ".two.4242.part").write_bytes(b"half a download")
    age(bases / ".two.4242.part", days=2)
    assert driver.prune_images(unused_for=86400) == ["two"]
    # "one" is under a guest's disk: kept, and marked as seen in use now.
    assert sorted(p.name for p in bases.iterdir()) == ["one"]
    assert time.time() - (bases / "one").stat().st_mtime < 3600
    assert driver.power_off(kept.instance_id, timeout=0) == 4
    assert driver.power_on(kept.instance_id) == 1

    # A spawn of a pruned image fetches it again; handing out a base marks it as used.
    again = spec(image_ref="two")
    driver.spawn(again)
    assert qemu_img_info(tmp_path / "instances" / again.instance_id / "disk")[
        "backing-filename"] == str(bases / "two")
    driver.destroy(again.instance_id)
    assert driver.prune_images(unused_for=60) == []
    age(bases / "two", days=2)
    assert driver.prune_images(unused_for=60) == ["two"]
