"""Server group use cases: create and delete groups; the batches that record a member
joining (with its InstanceRequested) and being placed (with its InstanceScheduled).

Which members are still alive is read from their own streams (groups are small: the
``server_group_members`` quota is 10 by default), so the decision uses the truth, not a
lagging projection.
"""

import uuid

from cloud.adapters.eventstore import Batch, EventStore
from cloud.domain import server_group, states
from cloud.domain.envelope import Context
from cloud.domain.placement import GroupView
from cloud.domain.server_group import ServerGroup
from cloud.services.repository import load_instance


def load_group(store: EventStore, group_id: str) -> tuple[ServerGroup | None, int]:
    """The group and its version (0 if it never existed or the id is not a uuid)."""
    try:
        stream = uuid.UUID(group_id)
    except ValueError:
        return None, 0
    state, version = None, 0
    for envelope in store.load(stream):
        state = server_group.evolve(state, group_id, envelope.data)
        version = envelope.version
    return state, version


def live_members(store: EventStore, group: ServerGroup) -> set[str]:
    """The members whose servers are not deleted."""
    alive = set()
    for member in group.members:
        instance, _ = load_instance(store, member)
        if instance is not None and instance.vm_state != states.DELETED:
            alive.add(member)
    return alive


def create(store: EventStore, *, name: str, policy: str, rules: dict[str, int],
           context: Context) -> tuple[str, list[int]]:
    """A new group of the caller's project; returns its id and positions."""
    group_id = str(uuid.uuid4())
    events = server_group.create(group_id, name=name, policy=policy, rules=rules,
                                 project_id=context.actor.project_id or "",
                                 user_id=context.actor.user_id or "")
    return group_id, store.append(Batch(uuid.UUID(group_id), group_id, 0, events),
                                  context=context)


def delete(store: EventStore, group_id: str, *, context: Context) -> list[int]:
    group, version = load_group(store, group_id)
    events = server_group.delete(group, group_id)
    return store.append(Batch(uuid.UUID(group_id), group_id, version, events),
                        context=context)


def join_batch(store: EventStore, group_id: str, *, instance_ids: list[str],
               limit: int) -> Batch:
    """The group's events for new members (to save with their requests). Raises
    GroupNotFound, QuotaExceeded past ``server_group_members``."""
    group, version = load_group(store, group_id)
    alive = live_members(store, group) if group is not None else set()
    events = server_group.add_members(group, group_id, instance_ids=instance_ids,
                                      live_members=len(alive), limit=limit)
    return Batch(uuid.UUID(group_id), group_id, version, events)


def placement_batch(store: EventStore, group_id: str, *, instance_id: str,
                    host: str) -> Batch:
    """The group's events recording a member's host (to save with its InstanceScheduled,
    expecting this version). Raises GroupPolicyViolated when the host breaks a strict
    policy as the group now stands."""
    group, version = load_group(store, group_id)
    alive = live_members(store, group) if group is not None else set()
    events = server_group.place(group, instance_id=instance_id, host=host, live=alive)
    return Batch(uuid.UUID(group_id), group_id, version, events)


def group_view(store: EventStore, group_id: str, *, instance_id: str) -> GroupView | None:
    """The group as the placement filters see it (None when gone)."""
    group, _ = load_group(store, group_id)
    if group is None or group.deleted:
        return None
    return server_group.view(group, instance_id=instance_id,
                             live=live_members(store, group))
