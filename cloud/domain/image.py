"""The Image aggregate (Glance v2): decide what happens to an image record, then evolve.

Who may do what is decided here too, from a ``Caller`` the edge passes in: public and
community images are visible to everybody, private and shared ones to their owner
project and to admins; only admins publicize; readers change nothing.
"""

from typing import Any

import msgspec

from cloud.domain.errors import NotFound
from cloud.domain.events import (
    Event,
    ImageCreated,
    ImageDataUploaded,
    ImageDeleted,
    ImageRegistered,
    ImageUpdated,
)
from cloud.domain.image_rules import (
    CORE,
    DEFAULT_VISIBILITY,
    PUBLIC,
    QUEUED_ONLY,
    ImageConflict,
    ImageForbidden,
    ImageNotFound,
    check_property,
    check_value,
    refuse_immutable,
)

QUEUED, ACTIVE, DELETED = "queued", "active", "deleted"
HASH_ALGO = "sha512"
# Which statuses an action may start from (delete and update: any live status).
ALLOWED = {"upload": frozenset({QUEUED})}


class Caller(msgspec.Struct, frozen=True, kw_only=True):
    """Who asks, as far as images care."""

    project_id: str
    is_admin: bool = False
    can_write: bool = True


class Digest(msgspec.Struct, frozen=True, kw_only=True):
    """What was measured while the data streamed in."""

    size: int
    checksum: str
    os_hash_value: str


class PatchOperation(msgspec.Struct, frozen=True, kw_only=True):
    """One JSON-patch step on a top-level attribute: add, replace or remove."""

    op: str
    attribute: str
    value: Any = None


class Image(msgspec.Struct, frozen=True, kw_only=True):
    id: str
    name: str | None
    owner: str | None
    status: str
    visibility: str
    disk_format: str | None = None
    container_format: str | None = None
    min_disk: int = 0
    min_ram: int = 0
    protected: bool = False
    os_hidden: bool = False
    tags: tuple[str, ...] = ()
    properties: dict[str, str] = {}
    size: int | None = None
    checksum: str | None = None


# --- who may see and change -----------------------------------------------------------


def is_visible(*, owner: str | None, visibility: str, caller: Caller) -> bool:
    """Public and community images are everybody's; the rest belong to their owner."""
    return (caller.is_admin or visibility in ("public", "community")
            or (owner is not None and owner == caller.project_id))


def found(image: Image | None, image_id: str, caller: Caller) -> Image:
    """The image if it exists, is not deleted and is visible to the caller."""
    if image is None or image.status == DELETED or not is_visible(
            owner=image.owner, visibility=image.visibility, caller=caller):
        raise ImageNotFound(image_id)
    return image


def _forbid(action: str) -> ImageForbidden:
    return ImageForbidden(f"You are not authorized to complete {action} action.")


def _may_change(image: Image, caller: Caller, action: str) -> None:
    if not caller.can_write or not (caller.is_admin or image.owner == caller.project_id):
        raise _forbid(action)


# --- decide ---------------------------------------------------------------------------


def create(existing: Image | None, image_id: str, *, attributes: dict[str, Any],
           caller: Caller) -> list[Event]:
    """A new record (``queued``) from a create body without ``id``."""
    if not caller.can_write:
        raise _forbid("add_image")
    if existing is not None:
        raise ImageConflict(f"Image with identifier {image_id} already exists!")
    core: dict[str, Any] = {"name": None, "owner": caller.project_id,
                            "visibility": DEFAULT_VISIBILITY}
    properties: dict[str, str] = {}
    for name, value in attributes.items():
        refuse_immutable(name)
        if name in CORE:
            core[name] = check_value(name, value)
        else:
            properties[name] = check_property(name, value)
    _check_privileges(core, caller, owner=caller.project_id, visibility=None)
    return [ImageCreated(**core, properties=properties)]


def _check_privileges(core: dict[str, Any], caller: Caller, *, owner: str | None,
                      visibility: str | None) -> None:
    """Only admins publicize or give an image to another project."""
    if caller.is_admin:
        return
    if core.get("visibility", visibility) == PUBLIC and visibility != PUBLIC:
        raise _forbid("publicize_image")
    if core.get("owner", owner) != owner:
        raise ImageForbidden("You are not permitted to set the owner of an image.")


def check_upload(image: Image, caller: Caller) -> None:
    """Refuse an upload before its data is read."""
    _may_change(image, caller, "upload_image")
    if image.status not in ALLOWED["upload"]:
        raise ImageConflict(
            f"Image status transition from {image.status} to saving is not allowed")


def upload(image: Image, *, caller: Caller, digest: Digest) -> list[Event]:
    """The data arrived whole and verified: the image becomes active."""
    check_upload(image, caller)
    return [ImageDataUploaded(size=digest.size, checksum=digest.checksum,
                              os_hash_algo=HASH_ALGO, os_hash_value=digest.os_hash_value)]


def delete(image: Image, *, caller: Caller) -> list[Event]:
    """Delete the record; protected images refuse."""
    _may_change(image, caller, "delete_image")
    if image.protected:
        raise ImageForbidden(f"Image {image.id} is protected and cannot be deleted.")
    return [ImageDeleted()]


def update(image: Image, *, operations: list[PatchOperation],
           caller: Caller) -> list[Event]:
    """Apply a JSON patch; records only what changed (nothing when nothing did)."""
    _may_change(image, caller, "modify_image")
    core = {name: _core_value(image, name) for name in CORE}
    properties = dict(image.properties)
    for operation in operations:
        _apply(operation, core, properties)
    changed = {name: value for name, value in core.items()
               if value != _core_value(image, name)}
    _check_privileges(changed, caller, owner=image.owner, visibility=image.visibility)
    for name in QUEUED_ONLY & changed.keys():
        if image.status != QUEUED:
            raise ImageForbidden(f"Attribute {name} can be only replaced for a queued image.")
    added = {k: v for k, v in properties.items() if image.properties.get(k) != v}
    removed = sorted(image.properties.keys() - properties.keys())
    if not (changed or added or removed):
        return []
    return [ImageUpdated(**changed, properties=added, removed_properties=removed)]


def tag(image: Image, *, name: str, caller: Caller) -> list[Event]:
    """Add one tag (nothing if it is there already)."""
    return update(image, caller=caller, operations=[
        PatchOperation(op="replace", attribute="tags", value=[*image.tags, name])])


def untag(image: Image, *, name: str, caller: Caller) -> list[Event]:
    """Remove one tag; a tag the image does not have is a 404."""
    _may_change(image, caller, "modify_image")
    if name not in image.tags:
        raise NotFound("Tag", name)
    return update(image, caller=caller, operations=[PatchOperation(
        op="replace", attribute="tags", value=[t for t in image.tags if t != name])])


def _core_value(image: Image, name: str) -> Any:
    value = getattr(image, name)
    return list(value) if name == "tags" else value


def _apply(operation: PatchOperation, core: dict[str, Any],
           properties: dict[str, str]) -> None:
    name = operation.attribute
    refuse_immutable(name)
    if operation.op == "remove":
        if name in CORE:
            raise ImageForbidden(f"Property {name} may not be removed.")
        if properties.pop(name, None) is None:
            raise ImageConflict(f"Property {name} does not exist.")
    elif name in CORE:
        core[name] = check_value(name, operation.value)
    elif operation.op == "replace" and name not in properties:
        raise ImageConflict(f"Property {name} does not exist.")
    else:
        properties[name] = check_property(name, operation.value)


# --- evolve: never fails, so any log replays ------------------------------------------


def evolve(image: Image | None, image_id: str, event: Event) -> Image | None:
    """Apply one recorded event."""
    match event:
        case ImageRegistered():
            return Image(id=image_id, name=event.name, owner=None, status=ACTIVE,
                         visibility=PUBLIC, disk_format=event.disk_format,
                         container_format=event.container_format, min_disk=event.min_disk,
                         min_ram=event.min_ram, size=0)
        case ImageCreated():
            fields = msgspec.structs.asdict(event)
            fields["tags"] = tuple(fields["tags"])
            return Image(id=image_id, status=QUEUED, **fields)
    if image is None:
        return None
    return msgspec.structs.replace(image, **_changes(image, event))


def _changes(image: Image, event: Event) -> dict[str, Any]:
    match event:
        case ImageDataUploaded():
            return {"status": ACTIVE, "size": event.size, "checksum": event.checksum}
        case ImageUpdated():
            changes = {name: value for name, value in msgspec.structs.asdict(event).items()
                       if name in CORE and value is not msgspec.UNSET}
            if "tags" in changes:
                changes["tags"] = tuple(changes["tags"])
            properties = {**image.properties, **event.properties}
            for name in event.removed_properties:
                properties.pop(name, None)
            return {**changes, "properties": properties}
        case ImageDeleted():
            return {"status": DELETED}
    return {}
