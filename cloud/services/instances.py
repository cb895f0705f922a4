"""Instance use cases: load, decide, save. Shared by the API, scheduler and conductor.

A server counts against its project's quota from its request until it is deleted: the
usage events are saved in the same transaction as the instance events (``quotas``).
"""

import secrets
import uuid
from collections.abc import Callable

from cloud.adapters.eventstore import Batch, EventStore
from cloud.domain import instance, quota, server_group, states
from cloud.domain.envelope import Context
from cloud.domain.errors import NotFound
from cloud.domain.events import Event, Fault, FlavorSpec, InstanceDeleted
from cloud.domain.quota import ProjectUsage
from cloud.services import hosts, quotas, server_groups
from cloud.services.repository import load_instance

_RESERVATION_SYMBOLS = "0123456789abcdefghijklmnopqrstuvwxyz"


def _save(store: EventStore, instance_id: str, version: int, events: list[Event],
          context: Context) -> list[int]:
    return store.append(Batch(uuid.UUID(instance_id), instance_id, version, events),
                        context=context)


def _existing(store: EventStore, instance_id: str) -> tuple[instance.Instance, int]:
    state, version = load_instance(store, instance_id)
    if state is None:
        raise NotFound("Instance", instance_id)
    return state, version


def create(store: EventStore, *, name: str, flavor: FlavorSpec, image_ref: str,
           context: Context, **options: object) -> tuple[str, list[int]]:
    """Record a new server request, counted against the project's quota in the same
    transaction; returns its id and the log positions written. Raises QuotaExceeded."""
    ids, _, positions = create_many(store, name=name, flavor=flavor, image_ref=image_ref,
                                    context=context, **options)
    return ids[0], positions


def _names(name: str, count: int) -> list[str]:
    # Nova's default multi_instance_display_name_template: "%(name)s-%(count)d".
    return [name] if count == 1 else [f"{name}-{n}" for n in range(1, count + 1)]


def create_many(store: EventStore, *, name: str, flavor: FlavorSpec, image_ref: str,
                context: Context, min_count: int = 1, max_count: int = 1,
                **options: object) -> tuple[list[str], str, list[int]]:
    """Record ``max_count`` servers of one request, or as many as the quota allows but
    at least ``min_count``, in one transaction with their quota usage. Returns their
    ids, the shared reservation id and the log positions. Raises QuotaExceeded."""
    project_id = context.actor.project_id or ""
    options.setdefault("reservation_id", "r-" + "".join(
        secrets.choice(_RESERVATION_SYMBOLS) for _ in range(8)))
    limits = quotas.load_quota_set(store, project_id)[0].limits()
    quota.check_metadata(limits, len(options.get("metadata") or {}))  # type: ignore[arg-type]
    ids = [str(uuid.uuid4()) for _ in range(max_count)]
    made: list[int] = []  # how many the last (saved) decision created

    def reserve(usage: ProjectUsage) -> tuple[list[Event], list[Batch]]:
        usage_events = quota.reserve_many(usage, limits, instance_ids=ids,
                                          min_count=min_count, cores=flavor.vcpus,
                                          ram=flavor.ram)
        names = _names(name, len(usage_events))
        made.append(len(usage_events))
        return usage_events, [Batch(uuid.UUID(ids[n]), ids[n], 0, instance.request(
            ids[n], name=names[n], flavor=flavor, image_ref=image_ref,
            project_id=project_id, user_id=context.actor.user_id or "",
            launch_index=n, **options))  # type: ignore[arg-type]
            for n in range(len(usage_events))] + _group_joins(
                store, options, ids[:len(usage_events)], limits)

    positions = quotas.save_with_usage(store, project_id, reserve, context=context)
    return ids[:made[-1]], str(options["reservation_id"]), positions


def _group_joins(store: EventStore, options: dict[str, object], instance_ids: list[str],
                 limits: dict[str, int]) -> list[Batch]:
    """The server group's events when the request names one (``group`` hint): members
    join in the same transaction as their request, within ``server_group_members``."""
    hints = options.get("scheduler_hints") or {}
    group_id = server_group.hinted_group(hints)  # type: ignore[arg-type]
    if group_id is None:
        return []
    return [server_groups.join_batch(store, group_id, instance_ids=instance_ids,
                                     limit=limits["server_group_members"])]


def delete(store: EventStore, instance_id: str, *, context: Context) -> list[int]:
    """Ask for a server to be deleted (finished at once when no host holds it)."""
    return _save_releasing(store, instance_id, instance.request_delete, context)[2]


def schedule(store: EventStore, instance_id: str, *, host_name: str,
             context: Context) -> list[int]:
    """Record the placement chosen by the scheduler (the claim is already saved)."""
    state, version = _existing(store, instance_id)
    return _save(store, instance_id, version,
                 instance.schedule(state, host=host_name, node=host_name), context)


def spawned(store: EventStore, instance_id: str, *, host_name: str, power_state: int,
            context: Context) -> list[int]:
    """A compute agent reports the guest running."""
    state, version = _existing(store, instance_id)
    events = instance.spawned(state, host=host_name, power_state=power_state)
    return _save(store, instance_id, version, events, context)


def fail(store: EventStore, instance_id: str, *, fault: Fault, context: Context,
         host_name: str | None = None) -> list[int]:
    """The build failed: the server goes to ERROR and its claim is given back."""
    state, version = _existing(store, instance_id)
    events = instance.fail(state, fault=fault, host=host_name)
    positions = _save(store, instance_id, version, events, context)
    if events or state.vm_state == states.ERROR:
        _release(store, state, context)
    return positions


def spawn_failed(store: EventStore, instance_id: str, *, host_name: str, reason: str,
                 context: Context, max_attempts: int = 3) -> list[int]:
    """A host failed to spawn: reschedule elsewhere (or fail) and free that host's claim."""
    state, version = _existing(store, instance_id)
    events = instance.spawn_failed(state, host=host_name, reason=reason,
                                   max_attempts=max_attempts)
    positions = _save(store, instance_id, version, events, context)
    if events or host_name in state.failed_hosts:
        hosts.release(store, host_name, instance_id=instance_id, context=context)
    return positions


def deleted(store: EventStore, instance_id: str, *, host_name: str | None,
            context: Context) -> list[int]:
    """The host destroyed the guest: the server is gone and its claim given back."""
    state, events, positions = _save_releasing(
        store, instance_id, lambda current: instance.deleted(current, host=host_name),
        context)
    if events or state.vm_state == states.DELETED:
        _release(store, state, context)
    return positions


def _save_releasing(store: EventStore, instance_id: str,
                    decide: Callable[[instance.Instance], list[Event]], context: Context,
                    ) -> tuple[instance.Instance, list[Event], list[int]]:
    """Save the instance's events; once it is deleted its quota usage is given back in the
    same transaction. Returns the state decided on, the events and the positions."""
    project_id = _existing(store, instance_id)[0].project_id
    decided: list[tuple[instance.Instance, list[Event]]] = []

    def release(usage: ProjectUsage) -> tuple[list[Event], list[Batch]]:
        state, version = _existing(store, instance_id)
        events = decide(state)
        decided.append((state, events))
        gone = state.vm_state == states.DELETED or any(
            isinstance(event, InstanceDeleted) for event in events)
        usage_events = quota.release(usage, instance_id=instance_id) if gone else []
        return usage_events, [Batch(uuid.UUID(instance_id), instance_id, version, events)]

    positions = quotas.save_with_usage(store, project_id, release, context=context)
    state, events = decided[-1]
    return state, events, positions


def _release(store: EventStore, state: instance.Instance, context: Context) -> None:
    # A second transaction: if we die before it, the report is redelivered, the instance
    # decision is then empty, and this release (idempotent) runs again.
    if state.host is not None:
        hosts.release(store, state.host, instance_id=state.id, context=context)
