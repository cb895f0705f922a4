"""``/flavors``: list, detail and show (flavors are few, so filtering happens here)."""

from typing import Any

from litestar import Request, get
from litestar.params import FromPath

from cloud.http import paging, views
from cloud.http.context import Backend, BackendDep, identity
from cloud.http.faults import BadRequest, ItemNotFound

Row = dict[str, Any]
Page = tuple[list[Row], dict[str, Any]]


def _is_public(request: Request) -> bool | None:
    """Which flavors to show by visibility: ``None`` means all (admins may ask for it)."""
    raw = request.query_params.get("is_public")
    if not identity(request).is_admin or raw is None:
        return True
    if raw.strip().lower() == "none":
        return None
    return paging.flag(raw, name="is_public")


def _minimum(request: Request, name: str) -> int:
    raw = request.query_params.get(name)
    if raw is None:
        return 0
    try:
        return int(raw)
    except ValueError:
        raise BadRequest(f"Invalid {name} filter [{raw}]") from None


def _page(request: Request, backend: Backend, path: str) -> Page:
    """The flavors this request asks for, and the ``flavors_links`` to add, if any."""
    is_public = _is_public(request)
    min_ram, min_disk = _minimum(request, "minRam"), _minimum(request, "minDisk")
    rows = [row for row in backend.read_models.flavors()
            if (is_public is None or row["is_public"] == is_public)
            and row["ram"] >= min_ram and row["disk"] >= min_disk]
    page_limit = paging.limit(request.query_params.get("limit"))
    marker = request.query_params.get("marker")
    page = list(paging.after_marker(rows, marker, lambda row: row["flavorid"]))[:page_limit]
    extra: dict[str, Any] = {}
    if paging.is_full(page, page_limit):
        extra["flavors_links"] = [backend.links.next_page(
            path, request.query_params.multi_items(), page[-1]["flavorid"])]
    return page, extra


@get("/flavors", sync_to_thread=True)
def list_flavors(request: Request, backend: BackendDep) -> dict[str, Any]:
    page, extra = _page(request, backend, "flavors")
    return {"flavors": [views.flavor_summary(backend.links, row) for row in page], **extra}


@get("/flavors/detail", sync_to_thread=True)
def list_flavors_detail(request: Request, backend: BackendDep) -> dict[str, Any]:
    page, extra = _page(request, backend, "flavors/detail")
    return {"flavors": [views.flavor_detail(backend.links, row) for row in page], **extra}


@get("/flavors/{flavor_id:str}", sync_to_thread=True)
def show_flavor(backend: BackendDep, flavor_id: FromPath[str]) -> dict[str, Any]:
    row = backend.read_models.flavor(flavor_id)
    if row is None:
        raise ItemNotFound(f"Flavor {flavor_id} could not be found.")
    return {"flavor": views.flavor_detail(backend.links, row)}
