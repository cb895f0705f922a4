"""A hypervisor that keeps its guests in memory: for simulated fleets (benchmarks, load
tests) where a thousand hosts must run in one process. Same protocol as libvirt's driver,
and the same answers: the transition table below is what LibvirtDriver does with libvirt."""

import threading

import msgspec

from cloud.agents.hypervisor import Capacity, GuestNotFound, GuestSpec, GuestStateError
from cloud.domain import states

# A guest's run state. "saved" is libvirt's managed save: shut off, memory on disk.
RUNNING, PAUSED, SHUTOFF, SAVED = "running", "paused", "shutoff", "saved"

# Nova's power_state as libvirt reports it; a managed-saved domain is simply shut off.
POWER = {RUNNING: states.RUNNING, PAUSED: states.POWER_PAUSED,
         SHUTOFF: states.SHUTDOWN, SAVED: states.SHUTDOWN}

# action -> {run state before: run state after}; a state missing is a GuestStateError.
# Each action maps its own result to itself: asking twice is success.
TRANSITIONS: dict[str, dict[str, str]] = {
    "power_off": {RUNNING: SHUTOFF, PAUSED: SHUTOFF, SHUTOFF: SHUTOFF, SAVED: SAVED},
    "power_on": {SHUTOFF: RUNNING, SAVED: RUNNING, RUNNING: RUNNING, PAUSED: PAUSED},
    "reboot": {RUNNING: RUNNING, PAUSED: RUNNING, SHUTOFF: RUNNING, SAVED: RUNNING},
    "pause": {RUNNING: PAUSED, PAUSED: PAUSED},
    "unpause": {PAUSED: RUNNING, RUNNING: RUNNING},
    "suspend": {RUNNING: SAVED, PAUSED: SAVED, SAVED: SAVED},
    "resume": {SAVED: RUNNING, RUNNING: RUNNING},
    "rebuild": {RUNNING: RUNNING, PAUSED: RUNNING, SHUTOFF: RUNNING, SAVED: RUNNING},
    "resize": {RUNNING: RUNNING, PAUSED: RUNNING, SHUTOFF: RUNNING, SAVED: RUNNING},
    # A rebuild or resize with power_on false: redefined, saved memory forgotten, left off.
    "rebuild_off": {RUNNING: SHUTOFF, PAUSED: SHUTOFF, SHUTOFF: SHUTOFF, SAVED: SHUTOFF},
    "resize_off": {RUNNING: SHUTOFF, PAUSED: SHUTOFF, SHUTOFF: SHUTOFF, SAVED: SHUTOFF},
}


class _Guest(msgspec.Struct, kw_only=True):
    spec: GuestSpec
    run_state: str = RUNNING
    console: list[str] = msgspec.field(default_factory=list)


class MemoryHypervisor:
    """One simulated host of the given size; every call is idempotent."""

    def __init__(self, hostname: str, *, vcpus: int = 32, memory_mb: int = 131072,
                 disk_gb: int = 2000) -> None:
        self.hostname = hostname
        self._capacity = Capacity(hypervisor_type="QEMU", hypervisor_hostname=hostname,
                                  vcpus=vcpus, memory_mb=memory_mb, disk_gb=disk_gb)
        self._guests: dict[str, _Guest] = {}
        self._lock = threading.Lock()

    @property
    def guests(self) -> dict[str, GuestSpec]:
        """The spec of every guest held, by instance id."""
        return {instance_id: guest.spec for instance_id, guest in self._guests.items()}

    def capacity(self) -> Capacity:
        return self._capacity

    def spawn(self, guest: GuestSpec) -> int:
        with self._lock:
            held = self._guests.setdefault(guest.instance_id, _Guest(spec=guest))
            if not held.console:
                held.console.append(f"{guest.name} booted")
            if held.run_state in (SHUTOFF, SAVED):
                held.run_state = RUNNING
            return POWER[held.run_state]

    def destroy(self, instance_id: str) -> None:
        with self._lock:
            self._guests.pop(instance_id, None)

    def power_state(self, instance_id: str) -> int:
        guest = self._guests.get(instance_id)
        return states.NOSTATE if guest is None else POWER[guest.run_state]

    def _act(self, instance_id: str, action: str, spec: GuestSpec | None = None) -> int:
        with self._lock:
            guest = self._guests.get(instance_id)
            if guest is None:
                raise GuestNotFound(instance_id)
            after = TRANSITIONS[action].get(guest.run_state)
            if after is None:
                raise GuestStateError(instance_id, action, POWER[guest.run_state])
            if after == RUNNING and guest.run_state != RUNNING:
                guest.console.append(f"{guest.spec.name} booted")
            guest.run_state = after
            if spec is not None:
                guest.spec = spec
            return POWER[after]

    def power_off(self, instance_id: str, *, timeout: float) -> int:
        return self._act(instance_id, "power_off")

    def power_on(self, instance_id: str) -> int:
        return self._act(instance_id, "power_on")

    def reboot(self, instance_id: str, *, hard: bool) -> int:
        return self._act(instance_id, "reboot")

    def pause(self, instance_id: str) -> int:
        return self._act(instance_id, "pause")

    def unpause(self, instance_id: str) -> int:
        return self._act(instance_id, "unpause")

    def suspend(self, instance_id: str) -> int:
        return self._act(instance_id, "suspend")

    def resume(self, instance_id: str) -> int:
        return self._act(instance_id, "resume")

    def rebuild(self, guest: GuestSpec, *, power_on: bool = True) -> int:
        return self._act(guest.instance_id, "rebuild" if power_on else "rebuild_off", guest)

    def resize(self, guest: GuestSpec, *, power_on: bool = True) -> int:
        held = self._guests.get(guest.instance_id)
        if held is not None:  # disks grow, never shrink, as on libvirt
            guest = msgspec.structs.replace(guest, disk_gb=max(guest.disk_gb,
                                                               held.spec.disk_gb))
        return self._act(guest.instance_id, "resize" if power_on else "resize_off", guest)

    def console_output(self, instance_id: str, *, length: int | None = None) -> str:
        guest = self._guests.get(instance_id)
        if guest is None:
            raise GuestNotFound(instance_id)
        lines = guest.console if length is None else guest.console[-length:] if length else []
        return "".join(f"{line}\n" for line in lines)

    def list_guests(self) -> dict[str, int]:
        with self._lock:
            return {instance_id: POWER[g.run_state] for instance_id, g in self._guests.items()}

    def precache_images(self, image_ids: list[str]) -> list[str]:
        return []  # nothing to fetch images into

    def prune_images(self, *, unused_for: float) -> list[str]:
        return []  # guests in memory have no disks, so no base images
