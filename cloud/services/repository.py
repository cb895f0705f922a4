"""Load aggregates by folding their streams; the one place that knows each evolve."""

import uuid

from cloud.adapters.eventstore import EventStore
from cloud.domain import flavor, host, ids, image, instance


def load_instance(store: EventStore, instance_id: str) -> tuple[instance.Instance | None, int]:
    """The instance and its version (0 if it never existed)."""
    state, version = None, 0
    for envelope in store.load(uuid.UUID(instance_id)):
        state, version = instance.evolve(state, instance_id, envelope.data), envelope.version
    return state, version


def load_host(store: EventStore, name: str) -> tuple[host.Host, int]:
    """The host and its version (an empty host at version 0 if never registered).

    Hosts are long-lived, busy streams: the store keeps the folded state in memory and
    only the events past it are read. A stale entry costs a version conflict, no more.
    """
    stream = ids.host_stream(name)
    state, version = store.folded.get(stream, (host.Host(name=name), 0))
    for envelope in store.load(stream, after_version=version):
        state, version = host.evolve(state, name, envelope.data), envelope.version
    store.folded[stream] = (state, version)
    return state, version


def load_flavor(store: EventStore, flavorid: str) -> tuple[flavor.Flavor | None, int]:
    """The flavor (deleted ones too) and its version (0 if it never existed)."""
    state, version = None, 0
    for envelope in store.load(ids.flavor_stream(flavorid)):
        state, version = flavor.evolve(state, envelope.data), envelope.version
    return state, version


def load_image(store: EventStore, image_id: str) -> tuple[image.Image | None, int]:
    """The image (deleted ones too) and its version (0 if it never existed)."""
    state, version = None, 0
    for envelope in store.load(uuid.UUID(image_id)):
        state, version = image.evolve(state, image_id, envelope.data), envelope.version
    return state, version
