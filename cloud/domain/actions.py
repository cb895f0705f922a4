"""Deciding server actions: a user's request, the host's answer, and the admin's overrides.

The tables are in ``lifecycle``; every function here takes the instance's state and
returns the events to record (empty when there is nothing to do), or raises.
"""

from typing import Any

from cloud.domain import states
from cloud.domain.errors import InstanceLocked, Invalid, InvalidTransition, NotAllowed
from cloud.domain.events import (
    Event,
    Fault,
    FlavorSpec,
    InstanceActionFailed,
    InstanceLocked as Locked,
    InstancePowerObserved,
    InstanceRebootRequested,
    InstanceRebuildRequested,
    InstanceResizeConfirmed,
    InstanceResizeRequested,
    InstanceResizeRevertRequested,
    InstanceStateReset,
    InstanceUnlocked,
)
from cloud.domain.instance import Instance
from cloud.domain.lifecycle import (
    ACTIONS,
    FAILED_TO_ERROR,
    RESETTABLE,
    TASKS_FINISHED_BY,
    Action,
    action_of_task,
    powers_on,
)

# Nova's verbs in its 409 messages, where they differ from the action's name.
_VERBS = {"reboot_hard": "reboot", "revertResize": "revert_resize",
          "confirmResize": "confirm_resize"}


def check_unlocked(instance: Instance, *, is_admin: bool) -> None:
    """A locked server refuses every change except from an admin."""
    if instance.locked and not is_admin:
        raise InstanceLocked(instance.id)


def _check(instance: Instance, action: Action, *, is_admin: bool) -> None:
    check_unlocked(instance, is_admin=is_admin)
    verb = _VERBS.get(action.name, action.name)
    if instance.task_state is not None and instance.task_state not in action.interrupts:
        raise InvalidTransition(instance.id, instance.task_state, verb,
                                attribute="task_state")
    if instance.vm_state not in action.allowed:
        raise InvalidTransition(instance.id, instance.vm_state, verb)
    if instance.host is None:
        # Only a server that never got a host can be in an allowed state without one.
        raise InvalidTransition(instance.id, instance.vm_state, verb)


def request(instance: Instance, name: str, *, is_admin: bool) -> list[Event]:
    """Stop, start, pause, unpause, suspend, resume, soft or hard reboot."""
    action = ACTIONS[name]
    _check(instance, action, is_admin=is_admin)
    if action.requested is InstanceRebootRequested:
        return [InstanceRebootRequested(host=instance.host, hard=name == "reboot_hard")]
    return [action.requested(host=instance.host)]  # type: ignore[arg-type]


def rebuild(instance: Instance, *, image_ref: str, name: str | None,
            is_admin: bool, **changes: Any) -> list[Event]:
    """Recreate the server from ``image_ref`` (optionally renamed); ``changes`` are the
    other fields the request sets (description, key_name, user_data, hostname…)."""
    _check(instance, ACTIONS["rebuild"], is_admin=is_admin)
    return [InstanceRebuildRequested(host=instance.host, image_ref=image_ref,  # type: ignore[arg-type]
                                     name=name or instance.name, flavor=instance.flavor,
                                     power_on=powers_on(instance.vm_state), **changes)]


def resize(instance: Instance, *, flavor: FlavorSpec, is_admin: bool) -> list[Event]:
    """Give the server another flavor on its host (the claim is the caller's job)."""
    _check(instance, ACTIONS["resize"], is_admin=is_admin)
    if flavor.flavorid == instance.flavor.flavorid:
        raise Invalid("When resizing, instances must change flavor!")
    if flavor.disk < instance.flavor.disk:
        raise Invalid("Resize to a flavor with a smaller root disk is not allowed.")
    return [InstanceResizeRequested(host=instance.host, name=instance.name,  # type: ignore[arg-type]
                                    image_ref=instance.image_ref,
                                    old_flavor=instance.flavor, flavor=flavor,
                                    power_on=powers_on(instance.vm_state))]


def revert_resize(instance: Instance, *, is_admin: bool) -> list[Event]:
    _check(instance, ACTIONS["revertResize"], is_admin=is_admin)
    old = instance.old_flavor or instance.flavor
    return [InstanceResizeRevertRequested(host=instance.host, name=instance.name,  # type: ignore[arg-type]
                                          image_ref=instance.image_ref, flavor=old,
                                          power_on=powers_on(instance.old_vm_state))]


def confirm_resize(instance: Instance, *, is_admin: bool) -> list[Event]:
    """Keep the new flavor; nothing for the host to do when it resized in place."""
    check_unlocked(instance, is_admin=is_admin)
    if instance.task_state is not None:
        raise InvalidTransition(instance.id, instance.task_state, "confirm_resize",
                                attribute="task_state")
    if instance.vm_state != states.RESIZED:
        raise InvalidTransition(instance.id, instance.vm_state, "confirm_resize")
    return [InstanceResizeConfirmed(host=instance.host or "")]


def finish(instance: Instance, done: Event) -> list[Event]:
    """The host reports an action done; ignored unless it is the action in progress on
    that host (a redelivered report, or one overtaken by a reset, changes nothing)."""
    tasks = TASKS_FINISHED_BY[type(done)]  # type: ignore[index]
    if instance.task_state not in tasks or instance.host != getattr(done, "host", None):
        return []
    return [done]


def fail(instance: Instance, *, host: str, task_state: str, message: str,
         to_error: bool = False) -> list[Event]:
    """The host could not finish the action that ran as ``task_state`` (``to_error``:
    nobody knows what state the guest is in, e.g. a deadline passed)."""
    action = action_of_task(task_state)
    if action is None or instance.task_state != task_state or instance.host != host:
        return []
    broken = to_error or action.name in FAILED_TO_ERROR
    vm_state = states.ERROR if broken else instance.vm_state
    return [InstanceActionFailed(host=host, action=action.name, vm_state=vm_state,
                                 fault=Fault(code=500, message=message))]


def lock(instance: Instance, *, reason: str | None, is_admin: bool) -> list[Event]:
    if instance.locked:
        return []
    return [Locked(reason=reason, by="admin" if is_admin else "owner")]


def unlock(instance: Instance, *, is_admin: bool) -> list[Event]:
    """The owner may unlock what the owner locked; what an admin locked, only an admin."""
    if not instance.locked:
        return []
    if instance.locked_by == "admin" and not is_admin:
        raise NotAllowed("Policy doesn't allow os_compute_api:os-lock-server:unlock:"
                         "unlock_override to be performed.")
    return [InstanceUnlocked()]


def reset_state(instance: Instance, *, state: str) -> list[Event]:
    """An admin forces ``active`` or ``error`` and drops whatever task was running."""
    return [InstanceStateReset(vm_state=RESETTABLE[state])]


# What a power state seen on the host means for a server that is not busy: the
# hypervisor is the truth (a guest that shut itself down is SHUTOFF).
_OFF = {states.SHUTDOWN, states.CRASHED, states.NOSTATE}


def observe_power(instance: Instance, *, host: str, power_state: int) -> list[Event]:
    """The host saw the guest's power state; record what changed, if anything."""
    if instance.task_state is not None or instance.host != host:
        return []
    vm_state = instance.vm_state
    if vm_state == states.ACTIVE and power_state in _OFF:
        vm_state = states.STOPPED
    elif vm_state == states.STOPPED and power_state == states.RUNNING:
        vm_state = states.ACTIVE
    if (vm_state, power_state) == (instance.vm_state, instance.power_state):
        return []
    if instance.vm_state in (states.BUILDING, states.DELETED, states.ERROR):
        return []
    return [InstancePowerObserved(host=host, power_state=power_state, vm_state=vm_state)]
