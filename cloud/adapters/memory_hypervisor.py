"""A hypervisor that keeps its guests in memory: for simulated fleets (benchmarks, load
tests) where a thousand hosts must run in one process. Same protocol as libvirt's driver."""

import threading

from cloud.agents.hypervisor import Capacity, GuestSpec
from cloud.domain import states


class MemoryHypervisor:
    """One simulated host of the given size; spawn and destroy are idempotent."""

    def __init__(self, hostname: str, *, vcpus: int = 32, memory_mb: int = 131072,
                 disk_gb: int = 2000) -> None:
        self.hostname = hostname
        self._capacity = Capacity(hypervisor_type="QEMU", hypervisor_hostname=hostname,
                                  vcpus=vcpus, memory_mb=memory_mb, disk_gb=disk_gb)
        self.guests: dict[str, GuestSpec] = {}
        self._lock = threading.Lock()

    def capacity(self) -> Capacity:
        return self._capacity

    def spawn(self, guest: GuestSpec) -> int:
        with self._lock:
            self.guests.setdefault(guest.instance_id, guest)
        return states.RUNNING

    def destroy(self, instance_id: str) -> None:
        with self._lock:
            self.guests.pop(instance_id, None)

    def power_state(self, instance_id: str) -> int:
        return states.RUNNING if instance_id in self.guests else states.NOSTATE
