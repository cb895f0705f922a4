"""Editing a server (update, metadata, tags): load the instance, decide, save."""

import uuid
from collections.abc import Callable

from cloud.adapters.eventstore import Batch, EventStore
from cloud.domain import server_edits
from cloud.domain.envelope import Context
from cloud.domain.events import Event
from cloud.domain.instance import Instance
from cloud.services import quotas
from cloud.services.repository import load_instance

Decision = Callable[[Instance | None], list[Event]]


def _decide_and_save(store: EventStore, instance_id: str, decide: Decision,
                     context: Context) -> tuple[list[Event], list[int]]:
    """The events decided on the instance as stored, and the log positions written
    (a concurrent writer makes the append fail with Conflict, a 409)."""
    state, version = load_instance(store, instance_id)
    events = decide(state)
    positions = store.append(Batch(uuid.UUID(instance_id), instance_id, version, events),
                             context=context)
    return events, positions


def update(store: EventStore, instance_id: str, changes: dict[str, object], *,
           context: Context) -> list[int]:
    """Rename, describe, re-address the server (only what differs is recorded)."""
    return _decide_and_save(store, instance_id, lambda state: server_edits.update(
        state, instance_id, **changes), context)[1]


def set_metadata(store: EventStore, instance_id: str, items: dict[str, str], *,
                 replace: bool, is_admin: bool, context: Context) -> list[int]:
    """Merge or replace the server's metadata, within its project's metadata quota."""
    project_id = context.actor.project_id or ""
    state = load_instance(store, instance_id)[0]
    if state is not None:
        project_id = state.project_id  # an admin may edit another project's server
    limits = quotas.load_quota_set(store, project_id)[0].limits()
    return _decide_and_save(store, instance_id, lambda current: server_edits.set_metadata(
        current, instance_id, items, replace=replace, limits=limits, is_admin=is_admin),
        context)[1]


def delete_metadata_item(store: EventStore, instance_id: str, key: str, *, is_admin: bool,
                         context: Context) -> list[int]:
    return _decide_and_save(store, instance_id, lambda state: server_edits.
                            delete_metadata_item(state, instance_id, key, is_admin=is_admin),
                            context)[1]


def set_tags(store: EventStore, instance_id: str, tags: list[str], *,
             context: Context) -> list[int]:
    return _decide_and_save(store, instance_id, lambda state: server_edits.set_tags(
        state, instance_id, tags), context)[1]


def add_tag(store: EventStore, instance_id: str, tag: str, *,
            context: Context) -> tuple[bool, list[int]]:
    """Give the server a tag; whether it is new (201) or was there already (204)."""
    events, positions = _decide_and_save(store, instance_id, lambda state: server_edits.
                                         add_tag(state, instance_id, tag), context)
    return bool(events), positions


def delete_tag(store: EventStore, instance_id: str, tag: str, *,
               context: Context) -> list[int]:
    return _decide_and_save(store, instance_id, lambda state: server_edits.delete_tag(
        state, instance_id, tag), context)[1]


def delete_tags(store: EventStore, instance_id: str, *, context: Context) -> list[int]:
    return _decide_and_save(store, instance_id, lambda state: server_edits.delete_tags(
        state, instance_id), context)[1]
