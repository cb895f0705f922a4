"""Image precaching on a host aggregate (microversion 2.81): the decision only.

The request is recorded on the aggregate's stream; it changes none of the aggregate's
state, so ``aggregate.evolve`` passes it by. Whether each image exists is checked by the
caller (images live in another stream); here: the aggregate must be alive and the list
non-empty without duplicates, as Nova requires. The request names the aggregate's hosts,
so that each host's compute agent gets it.
"""

from cloud.domain import events as ev
from cloud.domain.aggregate import AggregateNotFound, HostAggregate
from cloud.domain.errors import Invalid


class ImageCacheRefused(Invalid):
    """A precache request that cannot be taken (400)."""


def request_images(aggregate: HostAggregate | None, key: str,
                   image_ids: list[str]) -> list[ev.Event]:
    if aggregate is None or aggregate.deleted:
        raise AggregateNotFound(key)
    if not image_ids:
        raise ImageCacheRefused("At least one image is required in 'cache'.")
    if len(set(image_ids)) != len(image_ids):
        raise ImageCacheRefused("Duplicate images in request")
    return [ev.AggregateImagesCacheRequested(image_ids=list(image_ids),
                                             hosts=sorted(aggregate.hosts))]
