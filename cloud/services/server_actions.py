"""Server action use cases: load the instance, decide, save; claims for resizes.

Users ask (the API), hosts answer (the conductor records their reports); both sides are
idempotent: a decision against a state that moved on records nothing.
"""

import uuid
from collections.abc import Callable
from typing import Any

from cloud.adapters.eventstore import Batch, EventStore
from cloud.domain import actions, host, states
from cloud.domain.envelope import Context
from cloud.domain.errors import Conflict, HostFull, Invalid, NotFound
from cloud.domain.events import (
    Event,
    FlavorSpec,
    InstanceActionDone,
    InstanceResizeReverted,
)
from cloud.domain.instance import Instance
from cloud.projections.aggregate_queries import AggregateQueries
from cloud.services import hosts, instances
from cloud.services.repository import load_host, load_instance

Decide = Callable[[Instance], list[Event]]


def _update(store: EventStore, instance_id: str, context: Context,
            decide: Decide) -> tuple[Instance, list[Event], list[int]]:
    state, version = load_instance(store, instance_id)
    if state is None or state.vm_state == states.DELETED:
        raise NotFound("Instance", instance_id)
    events = decide(state)
    positions = store.append(Batch(uuid.UUID(instance_id), instance_id, version, events),
                             context=context)
    return state, events, positions


def act(store: EventStore, instance_id: str, name: str, *, context: Context,
        is_admin: bool) -> list[int]:
    """Stop, start, reboot (soft or hard), pause, unpause, suspend or resume."""
    return _update(store, instance_id, context,
                   lambda state: actions.request(state, name, is_admin=is_admin))[2]


def rebuild(store: EventStore, instance_id: str, *, image_ref: str, name: str | None,
            context: Context, is_admin: bool, **changes: Any) -> list[int]:
    return _update(store, instance_id, context, lambda state: actions.rebuild(
        state, image_ref=image_ref, name=name, is_admin=is_admin, **changes))[2]


def resize(store: EventStore, instance_id: str, *, flavor: FlavorSpec, context: Context,
           is_admin: bool, aggregates: AggregateQueries | None = None) -> list[int]:
    """Claim the new flavor beside the old one on the server's host, then ask the host.

    The claim is checked against the ratios the scheduler would use for that host: its
    aggregates' ``*_allocation_ratio`` metadata (from ``aggregates``) over its own."""
    state, version = load_instance(store, instance_id)
    if state is None or state.vm_state == states.DELETED:
        raise NotFound("Instance", instance_id)
    events = actions.resize(state, flavor=flavor, is_admin=is_admin)
    assert state.host is not None  # actions.resize refuses a server without a host
    want = host.Claim(vcpus=flavor.vcpus, memory_mb=flavor.ram,
                      disk_gb=flavor.disk + flavor.ephemeral)
    ratios = None
    if aggregates is not None:
        metadata = [row["metadata"] for row in aggregates.aggregates_by_host().get(
            state.host, [])]
        ratios = host.with_aggregate_ratios(load_host(store, state.host)[0].ratios(),
                                            metadata)
    try:
        hosts.claim(store, state.host, instance_id=instance_id, resources=want,
                    ratios=ratios, kind=host.RESIZE, context=context)
    except HostFull as full:
        raise Invalid(f"No valid host was found. Host {state.host} has not enough"
                      f" {full.resource} for flavor {flavor.name}.") from None
    try:
        return store.append(Batch(uuid.UUID(instance_id), instance_id, version, events),
                            context=context)
    except Conflict:
        hosts.release(store, state.host, instance_id=instance_id, kind=host.RESIZE,
                      context=context)
        raise


def confirm_resize(store: EventStore, instance_id: str, *, context: Context,
                   is_admin: bool) -> list[int]:
    """Keep the new flavor: its claim becomes the server's, the old one is given back."""
    state, events, positions = _update(store, instance_id, context, lambda current:
                                       actions.confirm_resize(current, is_admin=is_admin))
    if events and state.host:
        hosts.confirm_resize(store, state.host, instance_id=instance_id, context=context)
    return positions


def revert_resize(store: EventStore, instance_id: str, *, context: Context,
                  is_admin: bool) -> list[int]:
    return _update(store, instance_id, context,
                   lambda state: actions.revert_resize(state, is_admin=is_admin))[2]


def lock(store: EventStore, instance_id: str, *, reason: str | None, context: Context,
         is_admin: bool) -> list[int]:
    return _update(store, instance_id, context, lambda state: actions.lock(
        state, reason=reason, is_admin=is_admin))[2]


def unlock(store: EventStore, instance_id: str, *, context: Context,
           is_admin: bool) -> list[int]:
    return _update(store, instance_id, context,
                   lambda state: actions.unlock(state, is_admin=is_admin))[2]


def reset_state(store: EventStore, instance_id: str, *, state: str,
                context: Context) -> list[int]:
    return _update(store, instance_id, context,
                   lambda current: actions.reset_state(current, state=state))[2]


def delete(store: EventStore, instance_id: str, *, context: Context,
           is_admin: bool) -> list[int]:
    """Delete (or forceDelete): refused on a locked server unless by an admin."""
    state, _ = load_instance(store, instance_id)
    if state is None:
        raise NotFound("Instance", instance_id)
    actions.check_unlocked(state, is_admin=is_admin)
    return instances.delete(store, instance_id, context=context)


# --- what hosts report ----------------------------------------------------------------


def done(store: EventStore, instance_id: str, event: InstanceActionDone, *,
         context: Context) -> list[int]:
    """A host finished an action (a revert gives back the resized flavor's claim)."""
    state, events, positions = _update(store, instance_id, context,
                                       lambda current: actions.finish(current, event))
    if isinstance(event, InstanceResizeReverted) and (events or state.old_flavor is None):
        hosts.release(store, event.host, instance_id=instance_id, kind=host.RESIZE,
                      context=context)
    return positions


def failed(store: EventStore, instance_id: str, *, host_name: str, task_state: str,
           message: str, context: Context, to_error: bool = False) -> list[int]:
    """A host could not finish an action (or its deadline passed: ``to_error``): the
    server leaves its task with a fault."""
    state, events, positions = _update(store, instance_id, context, lambda current:
                                       actions.fail(current, host=host_name,
                                                    task_state=task_state, message=message,
                                                    to_error=to_error))
    if events and task_state == states.RESIZE_PREP:
        hosts.release(store, host_name, instance_id=instance_id, kind=host.RESIZE,
                      context=context)
    return positions


def power_observed(store: EventStore, instance_id: str, *, host_name: str,
                   power_state: int, context: Context) -> list[int]:
    """The host saw the guest's power state (the hypervisor is the truth)."""
    try:
        return _update(store, instance_id, context, lambda current: actions.observe_power(
            current, host=host_name, power_state=power_state))[2]
    except NotFound:
        return []
