"""What a user may edit on a server: its attributes, metadata and tags (decide only; the
Instance aggregate's evolve applies the events).

Nova's rules, as data: metadata changes need an idle server in one of ``EDITABLE``
states and, for non-admins, an unlocked one; tags need one of ``EDITABLE`` states only;
renaming or describing a server is allowed in any state.
"""

from typing import Final

from cloud.domain import quota, states
from cloud.domain.errors import InstanceLocked, Invalid, InvalidTransition, NotFound
from cloud.domain.errors import ServerItemNotFound
from cloud.domain.events import (
    Event,
    InstanceMetadataDeleted,
    InstanceMetadataSet,
    InstanceTagAdded,
    InstanceTagDeleted,
    InstanceTagsSet,
    InstanceUpdated,
)
from cloud.domain.instance import Instance

EDITABLE: Final = frozenset({states.ACTIVE, states.PAUSED, states.SUSPENDED, states.STOPPED})
MAX_TAGS: Final = 50
UPDATABLE: Final = ("name", "description", "hostname", "access_ipv4", "access_ipv6")


def _live(instance: Instance | None, instance_id: str) -> Instance:
    if instance is None or instance.vm_state == states.DELETED:
        raise NotFound("Instance", instance_id)
    return instance


def update(instance: Instance | None, instance_id: str, **changes: object) -> list[Event]:
    """PUT /servers/{id}: record the attributes that differ from what the server has."""
    current = _live(instance, instance_id)
    unknown = set(changes) - set(UPDATABLE)
    if unknown:
        raise Invalid(f"Cannot update {', '.join(sorted(unknown))}.")
    changed = {field: value for field, value in changes.items()
               if getattr(current, field) != value}
    return [InstanceUpdated(**changed)] if changed else []  # type: ignore[arg-type]


# --- metadata -------------------------------------------------------------------------


def _check_metadata_change(instance: Instance, action: str, *, is_admin: bool) -> None:
    # Nova checks the lock before the state.
    if instance.locked and not is_admin:
        raise InstanceLocked(instance.id)
    if instance.vm_state not in EDITABLE:
        raise InvalidTransition(instance.id, instance.vm_state, action)
    if instance.task_state is not None:
        raise InvalidTransition(instance.id, instance.task_state, action,
                                attribute="task_state")


def set_metadata(instance: Instance | None, instance_id: str, items: dict[str, str], *,
                 replace: bool, limits: dict[str, int], is_admin: bool) -> list[Event]:
    """Merge ``items`` into the metadata (POST, PUT of one key) or ``replace`` it (PUT)."""
    current = _live(instance, instance_id)
    _check_metadata_change(current, "update metadata", is_admin=is_admin)
    metadata = dict(items) if replace else {**current.metadata, **items}
    quota.check_metadata(limits, len(metadata))
    if metadata == current.metadata:
        return []
    return [InstanceMetadataSet(metadata=metadata)]


def delete_metadata_item(instance: Instance | None, instance_id: str, key: str, *,
                         is_admin: bool) -> list[Event]:
    """DELETE /servers/{id}/metadata/{key}."""
    current = _live(instance, instance_id)
    _check_metadata_change(current, "delete metadata", is_admin=is_admin)
    if key not in current.metadata:
        raise ServerItemNotFound("Metadata item", key, "Metadata item was not found")
    return [InstanceMetadataDeleted(key=key)]


# --- tags -----------------------------------------------------------------------------


def _check_tag_change(instance: Instance, action: str) -> None:
    if instance.vm_state not in EDITABLE:
        raise InvalidTransition(instance.id, instance.vm_state, action)


def too_many_tags(count: int) -> Invalid:
    return Invalid(f"The number of tags exceeded the per-server limit {MAX_TAGS}. The"
                   f" number of tags in request is {count}.")


def set_tags(instance: Instance | None, instance_id: str, tags: list[str]) -> list[Event]:
    """PUT /servers/{id}/tags: these tags and no others (duplicates count once)."""
    current = _live(instance, instance_id)
    _check_tag_change(current, "update tags")
    if len(tags) > MAX_TAGS:
        raise too_many_tags(len(tags))
    wanted = sorted(set(tags))
    return [] if tuple(wanted) == current.tags else [InstanceTagsSet(tags=wanted)]


def add_tag(instance: Instance | None, instance_id: str, tag: str) -> list[Event]:
    """PUT /servers/{id}/tags/{tag}: nothing to record if the server has it already."""
    current = _live(instance, instance_id)
    _check_tag_change(current, "update tag")
    if tag in current.tags:
        return []
    if len(current.tags) >= MAX_TAGS:
        raise Invalid(f"The number of tags exceeded the per-server limit {MAX_TAGS}")
    return [InstanceTagAdded(tag=tag)]


def delete_tag(instance: Instance | None, instance_id: str, tag: str) -> list[Event]:
    """DELETE /servers/{id}/tags/{tag}."""
    current = _live(instance, instance_id)
    _check_tag_change(current, "delete tag")
    if tag not in current.tags:
        raise ServerItemNotFound("Tag", tag, f"Instance {instance_id} has no tag '{tag}'")
    return [InstanceTagDeleted(tag=tag)]


def delete_tags(instance: Instance | None, instance_id: str) -> list[Event]:
    """DELETE /servers/{id}/tags."""
    current = _live(instance, instance_id)
    _check_tag_change(current, "delete tags")
    return [InstanceTagsSet(tags=[])] if current.tags else []
