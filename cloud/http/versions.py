"""Version discovery: the compute root (no auth, no microversion) and the v2.1 root."""

from typing import Any

from litestar import get

from cloud.http import microversions, views
from cloud.http.context import BackendDep

_RANGE = {"min_version": str(microversions.MIN_VERSION),
          "max_version": str(microversions.MAX_VERSION)}


@get("/", sync_to_thread=False)
def list_versions(backend: BackendDep) -> dict[str, Any]:
    """``GET /compute/``: every API version this endpoint knows."""
    return views.versions(backend.links, **_RANGE)


@get("/", sync_to_thread=False)
def show_v21(backend: BackendDep) -> dict[str, Any]:
    """``GET /compute/v2.1/``: the current version and its media type."""
    return views.version(backend.links, **_RANGE)
