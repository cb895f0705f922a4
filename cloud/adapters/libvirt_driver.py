"""The libvirt implementation of the Hypervisor protocol.

Works on libvirt's test driver (``test:///...``: no disks, instant state changes) and on
QEMU (``qemu:///system`` or ``qemu:///embed?root=...``). Each call answers like
MemoryHypervisor's transition table; calls on one guest go one at a time.
"""

import logging
import os
import shutil
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import libvirt

from cloud.adapters import guest_disks
from cloud.adapters.image_cache import ImageCache, ImageFetcher
from cloud.adapters.libvirt_connection import open_connection
from cloud.adapters.libvirt_xml import GuestFiles, render
from cloud.agents.hypervisor import Capacity, GuestNotFound, GuestSpec, GuestStateError
from cloud.domain import states

log = logging.getLogger(__name__)
# libvirt's domain states mapped to Nova's power_state numbers.
_POWER = {
    libvirt.VIR_DOMAIN_NOSTATE: states.NOSTATE,
    libvirt.VIR_DOMAIN_RUNNING: states.RUNNING,
    libvirt.VIR_DOMAIN_BLOCKED: states.RUNNING,
    libvirt.VIR_DOMAIN_PAUSED: states.POWER_PAUSED,
    libvirt.VIR_DOMAIN_SHUTDOWN: states.SHUTDOWN,
    libvirt.VIR_DOMAIN_SHUTOFF: states.SHUTDOWN,
    libvirt.VIR_DOMAIN_CRASHED: states.CRASHED,
    libvirt.VIR_DOMAIN_PMSUSPENDED: states.POWER_SUSPENDED,
}
CONSOLE_MAX_BYTES = 100 * 1024  # Nova's cap on the console log it returns
_POLL = 0.25  # seconds between looks at a guest shutting down
_PRESS_AGAIN = 10.0  # seconds between presses of the power button: a booting guest misses it


def _quiet(_context: object, _error: object) -> None:
    # libvirt prints every error to stderr by default; we raise and log our own.
    return None


libvirt.registerErrorHandler(_quiet, None)


def _power(domain: libvirt.virDomain) -> int:
    return _POWER.get(domain.state()[0], states.NOSTATE)


class LibvirtDriver:
    """Drives one libvirt connection (``test:///default`` in tests, ``qemu:///system``).

    With ``fetch_image`` guests get a qcow2 root disk on a cached, checksum-verified base
    image; without it (the test driver, simulations) they are diskless. ``virt_type`` is
    Nova's: ``qemu`` (TCG, works anywhere) or ``kvm``, which must be asked for: libvirt
    offers KVM wherever /dev/kvm opens, even where KVM then fails to run a guest.
    """

    def __init__(self, uri: str, *, instances_path: Path, hostname: str,
                 fetch_image: ImageFetcher | None = None, virt_type: str = "qemu") -> None:
        self.uri = uri
        self.instances_path = instances_path
        self.hostname = hostname
        self.conn = open_connection(uri)
        self.domain_type = "test" if self.conn.getType() == "TEST" else virt_type
        self.images = None if fetch_image is None else ImageCache(
            instances_path / "_base", fetch_image)
        self._locks: dict[str, threading.Lock] = {}
        self._locks_lock = threading.Lock()

    def close(self) -> None:
        self.conn.close()

    @contextmanager
    def _guest_lock(self, instance_id: str) -> Iterator[None]:
        # Changes to one guest go one at a time (lookup-then-define must not race);
        # different guests proceed in parallel: a slow shutdown blocks nobody else.
        with self._locks_lock:
            lock = self._locks.setdefault(instance_id, threading.Lock())
        with lock:
            yield

    def capacity(self) -> Capacity:
        _arch, memory_mb, cpus, *_ = self.conn.getInfo()
        self.instances_path.mkdir(parents=True, exist_ok=True)
        disk = os.statvfs(self.instances_path)
        return Capacity(hypervisor_type="QEMU", hypervisor_hostname=self.hostname,
                        vcpus=cpus, memory_mb=memory_mb,
                        disk_gb=disk.f_blocks * disk.f_frsize // 2**30)

    def _lookup(self, instance_id: str) -> libvirt.virDomain | None:
        try:
            return self.conn.lookupByUUIDString(instance_id)
        except libvirt.libvirtError as error:
            if error.get_error_code() == libvirt.VIR_ERR_NO_DOMAIN:
                return None
            raise

    def _get(self, instance_id: str) -> libvirt.virDomain:
        domain = self._lookup(instance_id)
        if domain is None:
            raise GuestNotFound(instance_id)
        return domain

    def _files(self, instance_id: str) -> GuestFiles:
        directory = self.instances_path / instance_id
        return GuestFiles(disk=None if self.images is None else directory / "disk",
                          console_log=directory / "console.log")

    def _define(self, guest: GuestSpec, *, new_disk: bool) -> libvirt.virDomain:
        """Write the guest's files (a fresh root disk when asked) and its definition."""
        files = self._files(guest.instance_id)
        files.console_log.parent.mkdir(parents=True, exist_ok=True)
        if self.images is not None and files.disk is not None:
            if new_disk or not files.disk.exists():
                base = self.images.base_image(guest.image_ref)
                guest_disks.create_overlay(base, files.disk, size_gb=guest.disk_gb)
            else:
                guest_disks.grow(files.disk, size_gb=guest.disk_gb)
        return self.conn.defineXML(render(guest, domain_type=self.domain_type, files=files))

    def spawn(self, guest: GuestSpec) -> int:
        with self._guest_lock(guest.instance_id):
            domain = self._lookup(guest.instance_id)
            if domain is None:
                domain = self._define(guest, new_disk=True)
            if not domain.isActive():
                domain.create()
            return _power(domain)

    def destroy(self, instance_id: str) -> None:
        with self._guest_lock(instance_id):
            domain = self._lookup(instance_id)
            if domain is not None:
                if domain.isActive():
                    domain.destroy()
                domain.undefineFlags(libvirt.VIR_DOMAIN_UNDEFINE_MANAGED_SAVE)
            shutil.rmtree(self.instances_path / instance_id, ignore_errors=True)

    def power_state(self, instance_id: str) -> int:
        domain = self._lookup(instance_id)
        return states.NOSTATE if domain is None else _power(domain)

    def guest_ids(self) -> list[str]:
        """Every guest libvirt knows on this host."""
        return [domain.UUIDString() for domain in self.conn.listAllDomains()]

    def list_guests(self) -> dict[str, int]:
        return {domain.UUIDString(): _power(domain) for domain in self.conn.listAllDomains()}

    def precache_images(self, image_ids: list[str]) -> list[str]:
        if self.images is None:  # diskless guests (the test driver without images)
            return []
        cached = []
        for image_id in image_ids:
            try:
                self.images.base_image(image_id)
            except Exception:
                log.exception("could not precache image %s", image_id)
            else:
                cached.append(image_id)
        return cached

    def prune_images(self, *, unused_for: float) -> list[str]:
        """Bases are in use while any disk under instances_path is an overlay of them,
        whether or not libvirt still knows its guest. A disk that cannot be read stops
        the prune: better a base kept too long than a guest's disk left without one."""
        if self.images is None or not self.instances_path.is_dir():
            return []
        disks = [d / "disk" for d in self.instances_path.iterdir()
                 if d.name != "_base" and (d / "disk").exists()]
        in_use = {base for disk in disks if (base := guest_disks.backing_file(disk))}
        return self.images.prune(in_use, unused_for=unused_for)

    # --- actions

    def power_off(self, instance_id: str, *, timeout: float) -> int:
        with self._guest_lock(instance_id):
            domain = self._get(instance_id)
            if domain.isActive():
                _shut_down(domain, timeout=timeout)
            return _power(domain)

    def power_on(self, instance_id: str) -> int:
        with self._guest_lock(instance_id):
            domain = self._get(instance_id)
            if not domain.isActive():
                domain.create()  # restores a managed save when there is one
            return _power(domain)

    def reboot(self, instance_id: str, *, hard: bool) -> int:
        with self._guest_lock(instance_id):
            domain = self._get(instance_id)
            if not hard and _power(domain) == states.RUNNING:
                try:
                    domain.reboot(0)
                    return _power(domain)
                except libvirt.libvirtError:
                    pass  # the guest cannot be asked: fall back to a hard reboot
            _hard_restart(domain)
            return _power(domain)

    def pause(self, instance_id: str) -> int:
        with self._guest_lock(instance_id):
            domain = self._get(instance_id)
            _require(domain, instance_id, "pause", {states.RUNNING, states.POWER_PAUSED})
            if _power(domain) == states.RUNNING:
                domain.suspend()  # libvirt's "suspend" freezes the vCPUs: Nova's pause
            return _power(domain)

    def unpause(self, instance_id: str) -> int:
        with self._guest_lock(instance_id):
            domain = self._get(instance_id)
            _require(domain, instance_id, "unpause", {states.RUNNING, states.POWER_PAUSED})
            if _power(domain) == states.POWER_PAUSED:
                domain.resume()
            return _power(domain)

    def suspend(self, instance_id: str) -> int:
        with self._guest_lock(instance_id):
            domain = self._get(instance_id)
            if domain.isActive():
                domain.managedSave(libvirt.VIR_DOMAIN_SAVE_RUNNING)
            elif not domain.hasManagedSaveImage():
                raise GuestStateError(instance_id, "suspend", _power(domain))
            return _power(domain)

    def resume(self, instance_id: str) -> int:
        with self._guest_lock(instance_id):
            domain = self._get(instance_id)
            if domain.hasManagedSaveImage() and not domain.isActive():
                domain.create()
            _require(domain, instance_id, "resume", {states.RUNNING})
            return _power(domain)

    def rebuild(self, guest: GuestSpec, *, power_on: bool = True) -> int:
        return self._redefine(guest, new_disk=True, power_on=power_on)

    def resize(self, guest: GuestSpec, *, power_on: bool = True) -> int:
        return self._redefine(guest, new_disk=False, power_on=power_on)

    def _redefine(self, guest: GuestSpec, *, new_disk: bool, power_on: bool) -> int:
        """Stop the guest, forget its saved memory, rewrite its disk/definition, start it
        (unless not ``power_on``: a stopped server's guest stays shut off)."""
        with self._guest_lock(guest.instance_id):
            domain = self._get(guest.instance_id)
            if domain.isActive():
                domain.destroy()
            if domain.hasManagedSaveImage():
                domain.managedSaveRemove(0)
            domain = self._define(guest, new_disk=new_disk)
            if power_on:
                domain.create()
            return _power(domain)

    def console_output(self, instance_id: str, *, length: int | None = None) -> str:
        self._get(instance_id)
        log = self._files(instance_id).console_log
        try:
            with log.open("rb") as file:
                file.seek(max(0, log.stat().st_size - CONSOLE_MAX_BYTES))
                text = file.read().decode("utf-8", errors="replace")
        except FileNotFoundError:
            return ""
        if length is None:
            return text
        return "".join(text.splitlines(keepends=True)[-length:]) if length > 0 else ""


def _require(domain: libvirt.virDomain, instance_id: str, action: str,
             allowed: set[int]) -> None:
    if _power(domain) not in allowed:
        raise GuestStateError(instance_id, action, _power(domain))


def _shut_down(domain: libvirt.virDomain, *, timeout: float) -> None:
    """ACPI power button, pressed again every few seconds (a guest still booting has
    nothing listening yet), then pull the plug if the guest is still up after ``timeout``.
    A paused or crashed guest cannot react to the button, so it is stopped at once."""
    if timeout > 0 and _power(domain) in (states.RUNNING, states.SHUTDOWN):
        deadline = time.monotonic() + timeout
        press = time.monotonic()
        while domain.isActive() and time.monotonic() < deadline:
            if time.monotonic() >= press:
                try:
                    domain.shutdown()
                except libvirt.libvirtError:
                    break  # e.g. no ACPI in the guest: the plug it is
                press += _PRESS_AGAIN
            time.sleep(_POLL)
    if domain.isActive():
        try:
            domain.destroy()
        except libvirt.libvirtError:
            if domain.isActive():  # it went down by itself meanwhile otherwise
                raise


def _hard_restart(domain: libvirt.virDomain) -> None:
    """Stop at once, forget any saved memory, boot afresh (Nova's hard reboot)."""
    if domain.isActive():
        domain.destroy()
    if domain.hasManagedSaveImage():
        domain.managedSaveRemove(0)
    domain.create()

