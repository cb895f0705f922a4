"""What every image handler shares: who asks, where the data lives, read-your-writes."""

import logging
from typing import Any

from litestar import Request
from litestar.di import NamedDependency

from cloud.adapters.imagestore import ImageStore
from cloud.domain.image import Caller, ImageNotFound, is_visible
from cloud.http.context import Backend, identity
from cloud.projections.image_queries import image_row

log = logging.getLogger(__name__)

# The app keeps its authenticate hook in its state under this key, so that the image
# routers (built once, at import) authenticate with whatever the app was given.
AUTHENTICATE = "authenticate"
# The app provides the image data store as a dependency under this name.
IMAGE_STORE = "image_store"
ImageStoreDep = NamedDependency[ImageStore]
Row = dict[str, Any]


async def authenticate(request: Request) -> None:
    """Before every ``/image/v2`` request: record the caller (401 when nobody)."""
    await request.app.state[AUTHENTICATE](request)


def caller(request: Request) -> Caller:
    """The caller as the image rules know it."""
    who = identity(request)
    return Caller(project_id=who.project_id, is_admin=who.is_admin, can_write=who.can_write)


def image_root(backend: Backend) -> str:
    """The public URL of ``/image`` (the links know the compute root beside it)."""
    return backend.links.root.removesuffix("/compute") + "/image"


def wait(backend: Backend, positions: list[int]) -> None:
    """Read-your-writes: the response and the next GET see what this request recorded."""
    if positions and not backend.read_models.wait_for(max(positions)):
        log.warning("read models did not reach position %s in time", max(positions))


def visible_row(request: Request, backend: Backend, image_id: str) -> Row:
    """The image's read-model row, if the caller may see it (404 otherwise)."""
    row = image_row(backend.read_models, image_id)
    if row is None or not is_visible(owner=row["owner"], visibility=row["visibility"],
                                     caller=caller(request)):
        raise ImageNotFound(image_id)
    return row
