"""Image precaching on a host aggregate (2.81): load the aggregate, check the images,
decide, save. The compute agents of the aggregate's hosts may act on the recorded
``AggregateImagesCacheRequested``; the API's answer (202) does not wait for them."""

import uuid
from collections.abc import Callable

from cloud.adapters.eventstore import Batch, EventStore
from cloud.domain import image_cache
from cloud.domain.envelope import Context
from cloud.domain.image_cache import ImageCacheRefused
from cloud.services.aggregates import load_aggregate


def cache_images(store: EventStore, aggregate_uuid: str, key: str, image_ids: list[str], *,
                 image_exists: Callable[[str], bool], context: Context) -> list[int]:
    """Record the request; AggregateNotFound (404) or ImageCacheRefused (400)."""
    state, version = load_aggregate(store, aggregate_uuid)
    events = image_cache.request_images(state, key, image_ids)
    missing = [image_id for image_id in image_ids if not image_exists(image_id)]
    if missing:
        raise ImageCacheRefused(f"Image {missing[0]} could not be found.")
    batch = Batch(uuid.UUID(aggregate_uuid), aggregate_uuid, version, events)
    return store.append(batch, context=context)
