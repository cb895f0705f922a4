"""Guest actions on libvirt's test driver, and the same answers from MemoryHypervisor:
the two implementations of the Hypervisor protocol must not drift apart."""

import uuid

import pytest

from cloud.adapters.libvirt_driver import LibvirtDriver
from cloud.adapters.libvirt_xml import domain_name
from cloud.adapters.memory_hypervisor import MemoryHypervisor
from cloud.agents.hypervisor import GuestNotFound, GuestSpec, GuestStateError
from cloud.up import node_file

RUNNING, PAUSED, SHUTDOWN = 1, 3, 4


@pytest.fixture(params=["libvirt", "memory"])
def hypervisor(request, tmp_path):
    if request.param == "memory":
        yield MemoryHypervisor("h1")
        return
    # A node file gives this test its own simulated host (test:///default is shared).
    driver = LibvirtDriver(f"test://{node_file(tmp_path, 'h1')}",
                           instances_path=tmp_path / "instances", hostname="h1")
    yield driver
    driver.close()


def spec(**changes) -> GuestSpec:
    fields = {"instance_id": str(uuid.uuid4()), "name": "vm", "vcpus": 1,
              "memory_mb": 512, "disk_gb": 1, "image_ref": "img"} | changes
    return GuestSpec(**fields)


@pytest.fixture
def guest(hypervisor) -> GuestSpec:
    guest = spec()
    assert hypervisor.spawn(guest) == RUNNING
    return guest


def test_power_off_then_on_and_each_twice(hypervisor, guest):
    assert hypervisor.power_off(guest.instance_id, timeout=5) == SHUTDOWN
    assert hypervisor.power_off(guest.instance_id, timeout=5) == SHUTDOWN
    assert hypervisor.power_state(guest.instance_id) == SHUTDOWN
    assert hypervisor.power_on(guest.instance_id) == RUNNING
    assert hypervisor.power_on(guest.instance_id) == RUNNING


def test_power_off_with_no_grace_pulls_the_plug(hypervisor, guest):
    assert hypervisor.power_off(guest.instance_id, timeout=0) == SHUTDOWN


def test_pause_and_unpause_are_idempotent(hypervisor, guest):
    assert hypervisor.pause(guest.instance_id) == PAUSED
    assert hypervisor.pause(guest.instance_id) == PAUSED
    assert hypervisor.list_guests() == {guest.instance_id: PAUSED}
    assert hypervisor.unpause(guest.instance_id) == RUNNING
    assert hypervisor.unpause(guest.instance_id) == RUNNING


def test_a_stopped_guest_cannot_be_paused(hypervisor, guest):
    hypervisor.power_off(guest.instance_id, timeout=0)
    with pytest.raises(GuestStateError) as raised:
        hypervisor.pause(guest.instance_id)
    assert raised.value.power_state == SHUTDOWN


def test_suspend_saves_and_resume_restores(hypervisor, guest):
    # Like Nova on libvirt: a managed-saved guest is shut off (power_state 4).
    assert hypervisor.suspend(guest.instance_id) == SHUTDOWN
    assert hypervisor.suspend(guest.instance_id) == SHUTDOWN
    assert hypervisor.resume(guest.instance_id) == RUNNING
    assert hypervisor.resume(guest.instance_id) == RUNNING


def test_a_paused_guest_resumes_running_after_a_suspend(hypervisor, guest):
    hypervisor.pause(guest.instance_id)
    assert hypervisor.suspend(guest.instance_id) == SHUTDOWN
    assert hypervisor.resume(guest.instance_id) == RUNNING


def test_resume_of_a_plainly_stopped_guest_is_refused(hypervisor, guest):
    hypervisor.power_off(guest.instance_id, timeout=0)
    with pytest.raises(GuestStateError):
        hypervisor.resume(guest.instance_id)
    with pytest.raises(GuestStateError):
        hypervisor.suspend(guest.instance_id)


@pytest.mark.parametrize("hard", [False, True])
def test_reboot_from_any_state_ends_running(hypervisor, guest, hard):
    assert hypervisor.reboot(guest.instance_id, hard=hard) == RUNNING
    hypervisor.pause(guest.instance_id)
    assert hypervisor.reboot(guest.instance_id, hard=hard) == RUNNING
    hypervisor.power_off(guest.instance_id, timeout=0)
    assert hypervisor.reboot(guest.instance_id, hard=hard) == RUNNING
    hypervisor.suspend(guest.instance_id)
    assert hypervisor.reboot(guest.instance_id, hard=hard) == RUNNING
    # A hard reboot forgets the saved memory: nothing is left to resume from.
    hypervisor.power_off(guest.instance_id, timeout=0)
    with pytest.raises(GuestStateError):
        hypervisor.resume(guest.instance_id)


def test_rebuild_and_resize_restart_a_stopped_guest(hypervisor, guest):
    hypervisor.power_off(guest.instance_id, timeout=0)
    assert hypervisor.rebuild(spec(instance_id=guest.instance_id, image_ref="other")) == 1
    hypervisor.suspend(guest.instance_id)
    bigger = spec(instance_id=guest.instance_id, vcpus=2, memory_mb=1024, disk_gb=2)
    assert hypervisor.resize(bigger) == RUNNING
    assert hypervisor.resize(guest) == RUNNING  # the revert


def test_rebuild_and_resize_without_power_on_leave_the_guest_off_each_twice(
        hypervisor, guest):
    hypervisor.power_off(guest.instance_id, timeout=0)
    rebuilt = spec(instance_id=guest.instance_id, image_ref="other")
    assert hypervisor.rebuild(rebuilt, power_on=False) == SHUTDOWN
    assert hypervisor.rebuild(rebuilt, power_on=False) == SHUTDOWN
    bigger = spec(instance_id=guest.instance_id, vcpus=2, memory_mb=1024, disk_gb=2)
    assert hypervisor.resize(bigger, power_on=False) == SHUTDOWN
    assert hypervisor.resize(bigger, power_on=False) == SHUTDOWN
    assert hypervisor.resize(guest, power_on=False) == SHUTDOWN  # the revert
    assert hypervisor.power_state(guest.instance_id) == SHUTDOWN
    assert hypervisor.power_on(guest.instance_id) == RUNNING  # still defined, startable


def test_a_stopped_guest_resized_off_is_redefined_and_not_running(tmp_path):
    driver = LibvirtDriver(f"test://{node_file(tmp_path, 'h1')}",
                           instances_path=tmp_path / "instances", hostname="h1")
    guest = spec()
    driver.spawn(guest)
    driver.power_off(guest.instance_id, timeout=0)
    driver.resize(spec(instance_id=guest.instance_id, vcpus=2, memory_mb=1024),
                  power_on=False)
    domain = driver.conn.lookupByName(domain_name(guest.instance_id))
    _state, max_memory_kib, _memory, vcpus, _cpu_time = domain.info()
    assert (vcpus, max_memory_kib) == (2, 1024 * 1024)
    assert not domain.isActive()
    driver.close()


def test_resize_changes_the_libvirt_definition(tmp_path):
    driver = LibvirtDriver(f"test://{node_file(tmp_path, 'h1')}",
                           instances_path=tmp_path / "instances", hostname="h1")
    guest = spec()
    driver.spawn(guest)
    driver.resize(spec(instance_id=guest.instance_id, vcpus=2, memory_mb=1024))
    domain = driver.conn.lookupByName(domain_name(guest.instance_id))
    _state, max_memory_kib, _memory, vcpus, _cpu_time = domain.info()
    assert (vcpus, max_memory_kib) == (2, 1024 * 1024)
    driver.close()


@pytest.mark.parametrize("action", ["power_on", "pause", "unpause", "suspend", "resume"])
def test_actions_on_a_missing_guest_raise_not_found(hypervisor, action):
    with pytest.raises(GuestNotFound):
        getattr(hypervisor, action)(str(uuid.uuid4()))
    with pytest.raises(GuestNotFound):
        hypervisor.power_off(str(uuid.uuid4()), timeout=1)
    with pytest.raises(GuestNotFound):
        hypervisor.console_output(str(uuid.uuid4()))


def test_list_guests_and_destroy(hypervisor, guest):
    other = spec()
    hypervisor.spawn(other)
    hypervisor.power_off(other.instance_id, timeout=0)
    assert hypervisor.list_guests() == {guest.instance_id: RUNNING, other.instance_id: SHUTDOWN}
    hypervisor.suspend(guest.instance_id)
    hypervisor.destroy(guest.instance_id)  # with its saved memory
    hypervisor.destroy(guest.instance_id)
    assert hypervisor.list_guests() == {other.instance_id: SHUTDOWN}


def test_console_output_of_a_guest_is_text(hypervisor, guest):
    assert isinstance(hypervisor.console_output(guest.instance_id), str)
    assert hypervisor.console_output(guest.instance_id, length=0) == ""


def test_console_output_reads_the_last_lines_of_the_log(tmp_path):
    driver = LibvirtDriver(f"test://{node_file(tmp_path, 'h1')}",
                           instances_path=tmp_path / "instances", hostname="h1")
    guest = spec()
    driver.spawn(guest)
    log = tmp_path / "instances" / guest.instance_id / "console.log"
    log.write_bytes(b"one\ntwo\n\xffthree\n")
    assert driver.console_output(guest.instance_id, length=2) == "two\n\ufffdthree\n"
    assert driver.console_output(guest.instance_id) == "one\ntwo\n\ufffdthree\n"
    driver.destroy(guest.instance_id)
    assert not log.parent.exists()
    driver.close()
