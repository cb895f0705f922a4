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


class GuestNotFound(LookupError):
    """The hypervisor holds no guest with this id (an action on a deleted instance)."""

    def __init__(self, instance_id: str) -> None:
        super().__init__(f"no guest {instance_id} on this host")
        self.instance_id = instance_id


class GuestStateError(Exception):
    """The guest is in no state for this action (e.g. pause a stopped guest)."""

    def __init__(self, instance_id: str, action: str, power_state: int) -> None:
        super().__init__(f"cannot {action} guest {instance_id} in power_state {power_state}")
        self.instance_id, self.action, self.power_state = instance_id, action, power_state


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

    # --- actions: each returns the guest's power_state afterwards; each is idempotent
    # (asking a stopped guest to stop is success), and raises when the guest is missing.

    def power_off(self, instance_id: str, *, timeout: float) -> int:
        """Ask the guest to shut down (ACPI); destroy it if it has not after ``timeout``."""

    def power_on(self, instance_id: str) -> int:
        """Start a defined, shut-off guest."""

    def reboot(self, instance_id: str, *, hard: bool) -> int:
        """Soft: ask the guest to reboot (hard if it does not). Hard: destroy and start."""

    def pause(self, instance_id: str) -> int:
        """Freeze the guest's vCPUs in memory."""

    def unpause(self, instance_id: str) -> int: ...

    def suspend(self, instance_id: str) -> int:
        """Save the guest's memory to disk and stop it (libvirt managed save)."""

    def resume(self, instance_id: str) -> int:
        """Start a suspended guest from its saved memory."""

    def rebuild(self, guest: GuestSpec, *, power_on: bool = True) -> int:
        """Recreate the guest's root disk from ``guest.image_ref`` and start it again
        (leave it shut off unless ``power_on``)."""

    def resize(self, guest: GuestSpec, *, power_on: bool = True) -> int:
        """Give the guest the vCPUs, memory and disk of ``guest`` (grow the disk, never
        shrink it) and restart it (leave it shut off unless ``power_on``); the same call
        with the old flavor reverts."""

    def console_output(self, instance_id: str, *, length: int | None = None) -> str:
        """The guest's serial console log, its last ``length`` lines when given."""

    def list_guests(self) -> dict[str, int]:
        """Every guest this hypervisor holds, by instance id, with its power_state."""

    def precache_images(self, image_ids: list[str]) -> list[str]:
        """Fetch images into the base image cache ahead of any boot; returns the ids now
        cached (one that cannot be fetched is logged and left out)."""

    def prune_images(self, *, unused_for: float) -> list[str]:
        """Remove cached base images no guest disk has used for ``unused_for`` seconds;
        returns their image ids."""
