"""A real guest on QEMU (TCG) through libvirt's embedded driver: the test image built by
scripts/build-test-image.sh boots, reacts to the ACPI power button, reboots, is saved
and restored, and leaves nothing behind when destroyed.

Needs the apt packages qemu-system-x86, qemu-utils, libvirt-daemon-driver-qemu and
libvirt-daemon-system (for the libvirt-qemu account the QEMU driver looks up); skipped only
when there is no qemu-system-x86_64 at all.
"""

import shutil
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from cloud.adapters.image_sources import LocalImages
from cloud.adapters.libvirt_connection import embedded_qemu_uri
from cloud.adapters.libvirt_driver import LibvirtDriver
from cloud.agents.hypervisor import GuestSpec

pytestmark = pytest.mark.skipif(
    shutil.which("qemu-system-x86_64") is None,
    reason="qemu-system-x86_64 is not installed (apt-get install qemu-system-x86)")

REPO = Path(__file__).resolve().parents[2]
READY, PRESSED = "CLOUD-TEST-GUEST READY", "CLOUD-TEST-GUEST POWER BUTTON"
RUNNING, PAUSED, SHUTDOWN = 1, 3, 4
BOOT_TIMEOUT = 180  # seconds; a boot takes ~15 s on two shared cores under TCG


@pytest.fixture(scope="session")
def test_image() -> tuple[Path, str]:
    """The test image, built once into .cloud/test-image and kept there."""
    out = subprocess.run([REPO / "scripts" / "build-test-image.sh"], check=True,
                         capture_output=True, text=True, timeout=600)
    image = REPO / out.stdout.strip().splitlines()[-1]
    return image, Path(f"{image}.sha512").read_text().strip()


@pytest.fixture(scope="session")
def libvirt_root() -> Iterator[Path]:
    # One per process: libvirt keeps an embedded driver open with its first root.
    # Short: QEMU's monitor socket goes below it and socket paths are limited.
    root = Path(tempfile.mkdtemp(prefix="lv-", dir="/tmp"))
    yield root
    shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def driver(tmp_path, libvirt_root, test_image):
    driver = LibvirtDriver(embedded_qemu_uri(libvirt_root),
                           instances_path=tmp_path / "instances", hostname="h1",
                           fetch_image=LocalImages({"test-image": test_image}))
    yield driver
    for instance_id in driver.list_guests():
        driver.destroy(instance_id)
    driver.close()


def wait_for_console(driver: LibvirtDriver, instance_id: str, line: str, count: int) -> float:
    """Seconds until ``line`` has appeared ``count`` times on the guest's console."""
    start = time.monotonic()
    while driver.console_output(instance_id).count(line) < count:
        if time.monotonic() - start > BOOT_TIMEOUT:
            pytest.fail(f"no {line!r} #{count}; console:\n{driver.console_output(instance_id)}")
        time.sleep(0.25)
    return time.monotonic() - start


def test_a_real_guest_boots_stops_restarts_and_is_gone_after_destroy(driver, tmp_path):
    guest = GuestSpec(instance_id=str(uuid.uuid4()), name="vm", vcpus=1, memory_mb=128,
                      disk_gb=1, image_ref="test-image")
    assert driver.spawn(guest) == RUNNING
    wait_for_console(driver, guest.instance_id, READY, 1)
    # The base under a running guest's disk (which QEMU holds locked) is in use.
    assert driver.prune_images(unused_for=0) == []
    # Graceful: the guest powers itself off on the ACPI button, well within the timeout.
    assert driver.power_off(guest.instance_id, timeout=60) == SHUTDOWN
    assert driver.console_output(guest.instance_id).count(PRESSED) == 1
    assert driver.power_on(guest.instance_id) == RUNNING
    wait_for_console(driver, guest.instance_id, READY, 2)
    assert driver.reboot(guest.instance_id, hard=False) == RUNNING  # ACPI, then restart
    wait_for_console(driver, guest.instance_id, READY, 3)
    assert driver.reboot(guest.instance_id, hard=True) == RUNNING
    wait_for_console(driver, guest.instance_id, READY, 4)
    assert driver.pause(guest.instance_id) == PAUSED
    assert driver.unpause(guest.instance_id) == RUNNING
    # Suspend keeps memory on disk: the resumed guest carries on without booting again.
    assert driver.suspend(guest.instance_id) == SHUTDOWN
    assert driver.resume(guest.instance_id) == RUNNING
    assert driver.power_off(guest.instance_id, timeout=60) == SHUTDOWN
    console = driver.console_output(guest.instance_id)
    assert (console.count(READY), console.count(PRESSED)) == (4, 3)

    driver.destroy(guest.instance_id)
    assert driver.list_guests() == {}
    assert not (tmp_path / "instances" / guest.instance_id).exists()
    assert [p.name for p in (tmp_path / "instances" / "_base").iterdir()] == ["test-image"]
    assert driver.prune_images(unused_for=0) == ["test-image"]


def test_a_guest_stopped_while_it_boots_still_powers_itself_off(driver):
    """Nothing in a booting guest listens to the power button yet: the button is pressed
    again until the guest hears it, and the plug is not pulled."""
    guest = GuestSpec(instance_id=str(uuid.uuid4()), name="early", vcpus=1, memory_mb=128,
                      disk_gb=1, image_ref="test-image")
    assert driver.spawn(guest) == RUNNING
    assert driver.power_off(guest.instance_id, timeout=BOOT_TIMEOUT) == SHUTDOWN
    console = driver.console_output(guest.instance_id)
    assert (console.count(READY), console.count(PRESSED)) == (1, 1)
