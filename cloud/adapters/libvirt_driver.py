"""The libvirt implementation of the Hypervisor protocol."""

import os
import threading
from pathlib import Path

import libvirt

from cloud.adapters.libvirt_xml import render
from cloud.agents.hypervisor import Capacity, GuestSpec
from cloud.domain import states

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


def _quiet(_context: object, _error: object) -> None:
    # libvirt prints every error to stderr by default; we raise and log our own.
    return None


libvirt.registerErrorHandler(_quiet, None)


class LibvirtDriver:
    """Drives one libvirt connection (``test:///default`` in tests, ``qemu:///system``)."""

    def __init__(self, uri: str, *, instances_path: Path, hostname: str) -> None:
        self.uri = uri
        self.instances_path = instances_path
        self.hostname = hostname
        self.conn = libvirt.open(uri)
        self.domain_type = "test" if self.conn.getType() == "TEST" else "qemu"
        # Changes go one at a time: lookup-then-define must not race in two threads.
        self._lock = threading.Lock()

    def close(self) -> None:
        self.conn.close()

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

    def spawn(self, guest: GuestSpec) -> int:
        with self._lock:
            domain = self._lookup(guest.instance_id)
            if domain is None:
                domain = self.conn.defineXML(render(guest, domain_type=self.domain_type))
            if not domain.isActive():
                domain.create()
            return _POWER.get(domain.state()[0], states.NOSTATE)

    def destroy(self, instance_id: str) -> None:
        with self._lock:
            domain = self._lookup(instance_id)
            if domain is None:
                return
            if domain.isActive():
                domain.destroy()
            domain.undefine()

    def power_state(self, instance_id: str) -> int:
        domain = self._lookup(instance_id)
        return states.NOSTATE if domain is None else _POWER.get(domain.state()[0], 0)

    def guest_ids(self) -> list[str]:
        """Every guest libvirt knows on this host."""
        return [domain.UUIDString() for domain in self.conn.listAllDomains()]
