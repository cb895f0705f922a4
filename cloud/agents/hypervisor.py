"""What a compute agent needs from a hypervisor. libvirt is one implementation."""

from typing import Protocol

import msgspec


class Capacity(msgspec.Struct, frozen=True, kw_only=True):
    hypervisor_type: str
    hypervisor_hostname: str
    vcpus: int
    memory_mb: int
    disk_gb: int


class GuestSpec(msgspec.Struct, frozen=True, kw_only=True):
    """Everything needed to build one guest, taken from the InstanceScheduled event."""

    instance_id: str
    name: str
    vcpus: int
    memory_mb: int
    disk_gb: int
    image_ref: str


class Hypervisor(Protocol):
    """Blocking calls; the agent runs them in worker threads."""

    def capacity(self) -> Capacity:
        """Host resources, read from the hypervisor and the OS."""

    def spawn(self, guest: GuestSpec) -> int:
        """Define and start the guest; a guest already running is success. Returns power_state."""

    def destroy(self, instance_id: str) -> None:
        """Stop and remove the guest and its disks; a missing guest is success."""

    def power_state(self, instance_id: str) -> int:
        """Nova's power_state of the guest (NOSTATE if there is none)."""
