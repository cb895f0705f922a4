"""Which hypervisor call carries out each action a host is asked for (a table)."""

from collections.abc import Callable

from cloud.agents.hypervisor import GuestSpec, Hypervisor
from cloud.domain import events as ev
from cloud.domain.envelope import Envelope
from cloud.domain.events import FlavorSpec

# How long a guest gets to shut down by itself before it is destroyed (Nova's default).
SHUTDOWN_TIMEOUT = 60.0

Call = Callable[[Hypervisor, Envelope], int]


def _guest(env: Envelope, *, name: str, flavor: FlavorSpec, image_ref: str) -> GuestSpec:
    return GuestSpec(instance_id=env.id, name=name, vcpus=flavor.vcpus,
                     memory_mb=flavor.ram, disk_gb=flavor.disk, image_ref=image_ref)


def _rebuild(hv: Hypervisor, env: Envelope) -> int:
    e: ev.InstanceRebuildRequested = env.data  # type: ignore[assignment]
    return hv.rebuild(_guest(env, name=e.name, flavor=e.flavor, image_ref=e.image_ref),
                      power_on=e.power_on)


def _resize(hv: Hypervisor, env: Envelope) -> int:
    e: ev.InstanceResizeRequested | ev.InstanceResizeRevertRequested = env.data  # type: ignore[assignment]
    return hv.resize(_guest(env, name=e.name, flavor=e.flavor, image_ref=e.image_ref),
                     power_on=e.power_on)


CALLS: dict[type[ev.InstanceActionRequested], tuple[Call, type[ev.InstanceActionDone]]] = {
    ev.InstanceStopRequested: (
        lambda hv, env: hv.power_off(env.id, timeout=SHUTDOWN_TIMEOUT), ev.InstanceStopped),
    ev.InstanceStartRequested: (lambda hv, env: hv.power_on(env.id), ev.InstanceStarted),
    ev.InstanceRebootRequested: (
        lambda hv, env: hv.reboot(env.id, hard=env.data.hard),  # type: ignore[attr-defined]
        ev.InstanceRebooted),
    ev.InstancePauseRequested: (lambda hv, env: hv.pause(env.id), ev.InstancePaused),
    ev.InstanceUnpauseRequested: (lambda hv, env: hv.unpause(env.id), ev.InstanceUnpaused),
    ev.InstanceSuspendRequested: (lambda hv, env: hv.suspend(env.id), ev.InstanceSuspended),
    ev.InstanceResumeRequested: (lambda hv, env: hv.resume(env.id), ev.InstanceResumed),
    ev.InstanceRebuildRequested: (_rebuild, ev.InstanceRebuilt),
    ev.InstanceResizeRequested: (_resize, ev.InstanceResized),
    ev.InstanceResizeRevertRequested: (_resize, ev.InstanceResizeReverted),
}
