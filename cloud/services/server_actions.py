"""Server action use cases: load the instance, decide, save; claims for resizes.

Users ask (the API), hosts answer (the conductor records their reports); both sides are
idempotent: a decision against a state that moved on records nothing.

A resize changes what the server counts against its project's quota: the events that
start or end one are saved with the usage they leave (``quotas.save_with_usage``), in
one transaction, as a create's are.
"""

import uuid
from collections.abc import Callable
from typing import Any

from cloud.adapters.eventstore import Batch, EventStore
from cloud.domain import actions, host, instance, quota, states
from cloud.domain.envelope import Context
from cloud.domain.errors import HostFull, Invalid, NotFound
from cloud.domain.events import (
    Event,
    FlavorSpec,
    InstanceActionDone,
    InstanceResized,
    InstanceResizeReverted,
)
from cloud.domain.instance import Instance
from cloud.domain.quota import ProjectUsage
from cloud.projections.aggregate_queries import AggregateQueries
from cloud.services import hosts, instances, quotas
from cloud.services.repository import load_host, load_instance

Decide = Callable[[Instance], list[Event]]


def _live(store: EventStore, instance_id: str) -> tuple[Instance, int]:
    state, version = load_instance(store, instance_id)
    if state is None or state.vm_state == states.DELETED:
        raise NotFound("Instance", instance_id)
    return state, version


def _update(store: EventStore, instance_id: str, context: Context,
            decide: Decide) -> tuple[Instance, list[Event], list[int]]:
    state, version = _live(store, instance_id)
    events = decide(state)
    positions = store.append(Batch(uuid.UUID(instance_id), instance_id, version, events),
                             context=context)
    return state, events, positions


def _counts(state: Instance, events: list[Event]) -> quota.Reservation:
    """What the instance counts once ``events`` are applied: every flavor it then holds."""
    after: Instance | None = state
    for event in events:
        after = instance.evolve(after, state.id, event)
    assert after is not None
    return quota.held(after.flavor, after.old_flavor, after.pending_flavor)


def _update_counted(store: EventStore, instance_id: str, context: Context, decide: Decide,
                    *, limits: dict[str, int] | None = None, project_id: str | None = None,
                    ) -> tuple[Instance, list[Event], list[int]]:
    """``_update``, with the instance's quota usage recounted for the flavors it holds
    after the events, in the same transaction (given ``limits``, an increase must fit).
    ``project_id``: the instance's, when the caller has loaded it already."""
    if project_id is None:
        project_id = _live(store, instance_id)[0].project_id
    decided: list[tuple[Instance, list[Event]]] = []

    def count(usage: ProjectUsage) -> tuple[list[Event], list[Batch]]:
        state, version = _live(store, instance_id)
        events = decide(state)
        decided.append((state, events))
        usage_events = quota.recount(usage, instance_id=instance_id,
                                     counts=_counts(state, events), limits=limits)
        return usage_events, [Batch(uuid.UUID(instance_id), instance_id, version, events)]

    positions = quotas.save_with_usage(store, project_id, count, context=context)
    state, events = decided[-1]
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

    The server counts the larger of both flavors against its project's quota until the
    resize ends: refused (QuotaExceeded) when the increase does not fit."""
    state, _ = _live(store, instance_id)
    events = actions.resize(state, flavor=flavor, is_admin=is_admin)
    assert state.host is not None  # actions.resize refuses a server without a host
    limits = quotas.load_quota_set(store, state.project_id)[0].limits()
    # Refused before anything is claimed; checked again, atomically, when saved.
    quota.recount(quotas.load_usage(store, state.project_id)[0], instance_id=instance_id,
                  counts=_counts(state, events), limits=limits)
    claimed = _claim_resize(store, state.host, instance_id, flavor, aggregates=aggregates,
                            context=context)
    try:
        return _update_counted(store, instance_id, context, lambda current: actions.resize(
            current, flavor=flavor, is_admin=is_admin), limits=limits,
            project_id=state.project_id)[2]
    except Exception:
        # Not saved (the quota filled meanwhile, another request won...): nor is the
        # claim, unless it was there before this request.
        if claimed:
            hosts.release(store, state.host, instance_id=instance_id, kind=host.RESIZE,
                          context=context)
        raise


def _claim_resize(store: EventStore, host_name: str, instance_id: str, flavor: FlavorSpec,
                  *, aggregates: AggregateQueries | None, context: Context) -> list[Event]:
    """Claim ``flavor`` on the server's host, checked against the ratios the scheduler
    would use for it: its aggregates' ``*_allocation_ratio`` metadata (from
    ``aggregates``) over its own. Returns the claim's events (none: it was there)."""
    want = host.Claim(vcpus=flavor.vcpus, memory_mb=flavor.ram,
                      disk_gb=flavor.disk + flavor.ephemeral)
    ratios = None
    if aggregates is not None:
        metadata = [row["metadata"] for row in aggregates.aggregates_by_host().get(
            host_name, [])]
        ratios = host.with_aggregate_ratios(load_host(store, host_name)[0].ratios(),
                                            metadata)
    try:
        return hosts.claim(store, host_name, instance_id=instance_id, resources=want,
                           ratios=ratios, kind=host.RESIZE, context=context)
    except HostFull as full:
        raise Invalid(f"No valid host was found. Host {host_name} has not enough"
                      f" {full.resource} for flavor {flavor.name}.") from None


def confirm_resize(store: EventStore, instance_id: str, *, context: Context,
                   is_admin: bool) -> list[int]:
    """Keep the new flavor: its claim becomes the server's, the old one is given back
    (to the host, and to the quota in the same transaction as the confirmation)."""
    state, events, positions = _update_counted(
        store, instance_id, context,
        lambda current: actions.confirm_resize(current, is_admin=is_admin))
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

# The reports that change which flavors a server holds, hence its quota usage.
_RESIZE_DONE = (InstanceResized, InstanceResizeReverted)
_RESIZE_TASKS = frozenset({states.RESIZE_PREP, states.RESIZE_REVERTING})


def done(store: EventStore, instance_id: str, event: InstanceActionDone, *,
         context: Context) -> list[int]:
    """A host finished an action (a revert gives back the resized flavor's claim, and
    its quota usage)."""
    update = _update_counted if isinstance(event, _RESIZE_DONE) else _update
    state, events, positions = update(store, instance_id, context,
                                      lambda current: actions.finish(current, event))
    if isinstance(event, InstanceResizeReverted) and (events or state.old_flavor is None):
        hosts.release(store, event.host, instance_id=instance_id, kind=host.RESIZE,
                      context=context)
    return positions


def failed(store: EventStore, instance_id: str, *, host_name: str, task_state: str,
           message: str, context: Context, to_error: bool = False) -> list[int]:
    """A host could not finish an action (or its deadline passed: ``to_error``): the
    server leaves its task with a fault (a failed resize counts its old flavor again)."""
    update = _update_counted if task_state in _RESIZE_TASKS else _update
    state, events, positions = update(store, instance_id, context, lambda current:
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
