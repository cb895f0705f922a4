"""Image use cases: load, decide, save; the data file follows the recorded decision.

An image's stream id is its UUID. A save that loses a race with another request is
decided again on the newer state (which may then refuse, e.g. a second upload).
"""

import uuid
from collections.abc import Callable
from typing import Any

from cloud.adapters.eventstore import Batch, EventStore
from cloud.adapters.imagestore import ImageStore, Staging
from cloud.domain import image
from cloud.domain.envelope import Context
from cloud.domain.errors import Conflict
from cloud.domain.events import Event
from cloud.domain.image import (
    Caller,
    Digest,
    Image,
    ImageConflict,
    ImageNotFound,
    PatchOperation,
)
from cloud.services.repository import load_image

ATTEMPTS = 5
Decide = Callable[[Image | None], list[Event]]


def canonical_id(image_id: str) -> str:
    """The id as stored; a string that is no UUID names no image (404)."""
    try:
        return str(uuid.UUID(image_id))
    except ValueError:
        raise ImageNotFound(image_id) from None


def _decide_and_save(store: EventStore, image_id: str, context: Context,
                     decide: Decide) -> list[int]:
    for _ in range(ATTEMPTS):
        state, version = load_image(store, image_id)
        events = decide(state)
        if not events:
            return []
        try:
            return store.append(Batch(uuid.UUID(image_id), image_id, version, events),
                                context=context)
        except Conflict:
            continue
    raise ImageConflict(f"Image {image_id} is being changed by other requests; try again.")


def visible(store: EventStore, image_id: str, *, caller: Caller) -> Image:
    """The image as recorded, if the caller may see it."""
    image_id = canonical_id(image_id)
    return image.found(load_image(store, image_id)[0], image_id, caller)


def create(store: EventStore, *, image_id: str | None, attributes: dict[str, Any],
           caller: Caller, context: Context) -> tuple[str, list[int]]:
    """Record a new image (``queued``); returns its id and the log positions."""
    image_id = image_id or str(uuid.uuid4())
    positions = _decide_and_save(store, image_id, context, lambda state: image.create(
        state, image_id, attributes=attributes, caller=caller))
    return image_id, positions


def check_upload(store: EventStore, image_id: str, *, caller: Caller) -> None:
    """Refuse early an upload that would be refused anyway (before reading the data)."""
    image.check_upload(visible(store, image_id, caller=caller), caller)


def upload(store: EventStore, files: ImageStore, image_id: str, *, staging: Staging,
           digest: Digest, caller: Caller, context: Context) -> list[int]:
    """Record finished, verified data; the file is kept only if that was recorded."""
    image_id = canonical_id(image_id)
    try:
        positions = _decide_and_save(store, image_id, context, lambda state: image.upload(
            image.found(state, image_id, caller), caller=caller, digest=digest))
    except BaseException:
        staging.discard()
        raise
    # A crash right here leaves an active image without its file; downloads say so.
    files.commit(staging, image_id)
    return positions


def update(store: EventStore, image_id: str, *, operations: list[PatchOperation],
           caller: Caller, context: Context) -> list[int]:
    """Apply a JSON patch."""
    image_id = canonical_id(image_id)
    return _decide_and_save(store, image_id, context, lambda state: image.update(
        image.found(state, image_id, caller), operations=operations, caller=caller))


def tag(store: EventStore, image_id: str, name: str, *, add: bool, caller: Caller,
        context: Context) -> list[int]:
    """Add or remove one tag."""
    image_id = canonical_id(image_id)
    change = image.tag if add else image.untag
    return _decide_and_save(store, image_id, context, lambda state: change(
        image.found(state, image_id, caller), name=name, caller=caller))


def delete(store: EventStore, files: ImageStore, image_id: str, *, caller: Caller,
           context: Context) -> list[int]:
    """Delete the record, then its data."""
    image_id = canonical_id(image_id)
    positions = _decide_and_save(store, image_id, context, lambda state: image.delete(
        image.found(state, image_id, caller), caller=caller))
    files.remove(image_id)
    return positions
