"""Bootstrap data: the default flavors and the placeholder image."""

import uuid

from cloud.adapters.eventstore import Batch, EventStore
from cloud.domain.envelope import Actor, Context
from cloud.domain.errors import Duplicate
from cloud.domain.events import FlavorSpec, ImageRegistered
from cloud.domain.flavor import DEFAULT_FLAVORS
from cloud.services import flavors
from cloud.services.repository import load_flavor

# The default image servers boot from: registered (ImageRegistered) as public and active
# with size 0 and no data, until a bootable image is built for it.
DEFAULT_IMAGE_ID = "d3f1c0de-0000-4000-8000-00000000c10d"
DEFAULT_IMAGE_NAME = "cloud-test-image"


def create_flavor(store: EventStore, spec: FlavorSpec, *, context: Context) -> list[int]:
    """Create a default flavor once: an id with a history (a flavor an admin deleted, one
    recorded before names were reserved) is left as it is, but keeps its name; a name an
    admin gave another flavor is left to that flavor."""
    existing, version = load_flavor(store, spec.flavorid)
    if existing is not None and not existing.deleted:
        return flavors.claim_own_name(store, existing.spec, context=context)
    if version:
        return []
    try:
        return flavors.create(store, spec, context=context)
    except Duplicate:
        return []


def bootstrap(store: EventStore, *, timestamp: str) -> None:
    """Record the default flavors and image once; running it again records nothing."""
    context = Context(actor=Actor(agent="bootstrap"), timestamp=timestamp)
    for spec in DEFAULT_FLAVORS:
        create_flavor(store, spec, context=context)
    image_stream = uuid.UUID(DEFAULT_IMAGE_ID)
    if not store.load(image_stream):
        image = ImageRegistered(image_id=DEFAULT_IMAGE_ID, name=DEFAULT_IMAGE_NAME)
        store.append(Batch(image_stream, DEFAULT_IMAGE_ID, 0, [image]), context=context)
