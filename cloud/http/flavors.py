"""``/flavors``: list, detail, show; admins create, delete and (2.55) describe flavors.

A private flavor is seen only by admins and by projects given access (os-flavor-access);
to anyone else it does not exist (404, and 400 when a server asks for it). Flavors are
few, so filtering, sorting and paging happen here.
"""

from typing import Any

from litestar import Request, Response, delete, get, post, put
from litestar.exceptions import NotFoundException
from litestar.params import FromPath, RawBody

from cloud.domain.events import FlavorSpec
from cloud.http import flavor_schemas, paging, policy, views
from cloud.http.context import Backend, BackendDep, Identity, identity, service_context
from cloud.http.faults import BadRequest, Forbidden, ItemNotFound
from cloud.http.microversions import APIVersion, negotiated
from cloud.projections.flavor_queries import FlavorQueries
from cloud.services import flavors

Row = dict[str, Any]
Page = tuple[list[Row], dict[str, Any]]
V2_55, V2_61 = APIVersion(2, 55), APIVersion(2, 61)
MANAGE = "os_compute_api:os-flavor-manage:"
# Nova's sort keys and the read-model column each sorts by (None: the same for all).
SORT_KEYS = {"created_at": "created_at", "description": "description", "disabled": None,
             "ephemeral_gb": "ephemeral", "flavorid": "flavorid", "id": "seq",
             "is_public": "is_public", "memory_mb": "ram", "name": "name",
             "root_gb": "disk", "rxtx_factor": "rxtx_factor", "swap": "swap",
             "updated_at": None, "vcpu_weight": None, "vcpus": "vcpus"}
SORT_DIRS = ("asc", "desc")


# --- visibility -------------------------------------------------------------------------


def queries(backend: Backend) -> FlavorQueries:
    return FlavorQueries(backend.read_models.pool)


def visible(row: Row, caller: Identity) -> bool:
    return policy.is_admin(caller) or row["is_public"] or row["has_access"]


def visible_flavor(backend: Backend, caller: Identity, flavor_id: str) -> Row:
    """A flavor the caller may see, or 404 as if it did not exist."""
    row = queries(backend).flavor(flavor_id, caller.project_id)
    if row is None or not visible(row, caller):
        raise ItemNotFound(f"Flavor {flavor_id} could not be found.")
    return row


def usable_flavor(backend: Backend, caller: Identity | None, flavor_id: str) -> FlavorSpec:
    """The copy of a flavor a server keeps; 400 when it is missing or private to others
    than the caller (no caller: any live flavor)."""
    row = queries(backend).flavor(flavor_id, caller.project_id if caller else "")
    if row is None or (caller is not None and not visible(row, caller)):
        raise BadRequest(f"Flavor {flavor_id} could not be found.")
    return FlavorSpec(flavorid=row["flavorid"], name=row["name"], vcpus=row["vcpus"],
                      ram=row["ram"], disk=row["disk"], ephemeral=row["ephemeral"],
                      swap=row["swap"], extra_specs=row["extra_specs"])


def wait(backend: Backend, positions: list[int]) -> None:
    """Read-your-writes: the answer and the next GET show what was recorded."""
    if positions:
        backend.read_models.wait_for(max(positions))


# --- list -------------------------------------------------------------------------------


def _is_public(request: Request, caller: Identity) -> bool | None:
    """Which flavors to show by visibility: ``None`` means all (admins may ask for it)."""
    raw = request.query_params.get("is_public")
    if not policy.is_admin(caller) or raw is None:
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


def _choice(request: Request, name: str, allowed: Any, default: str) -> str:
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return default
    if raw not in allowed:
        raise BadRequest(f"Invalid input for query parameters {name}. Value: {raw}."
                         f" '{raw}' is not one of {list(allowed)}")
    return raw


def _sort_key(request: Request):
    """The order asked for (``sort_key``, ``sort_dir``), creation order breaking ties."""
    column = SORT_KEYS[_choice(request, "sort_key", SORT_KEYS, "flavorid")]

    def key(row: Row) -> tuple:
        value = row[column] if column else None
        return (value is not None, value if value is not None else 0, row["seq"])
    return key, _choice(request, "sort_dir", SORT_DIRS, "asc") == "desc"


def _wanted(row: Row, is_public: bool | None, min_ram: int, min_disk: int) -> bool:
    # Asking for public flavors also gives the private ones shared with the project.
    shown = (is_public is None or row["is_public"] == is_public
             or (is_public and row["has_access"]))
    return shown and row["ram"] >= min_ram and row["disk"] >= min_disk


def _page(request: Request, backend: Backend, path: str) -> Page:
    """The flavors this request asks for, and the ``flavors_links`` to add, if any."""
    caller = identity(request)
    is_public = _is_public(request, caller)
    min_ram, min_disk = _minimum(request, "minRam"), _minimum(request, "minDisk")
    key, descending = _sort_key(request)
    page_limit = paging.limit(request.query_params.get("limit"))
    rows = [row for row in queries(backend).flavors(caller.project_id)
            if visible(row, caller)]
    wanted = sorted((row for row in rows if _wanted(row, is_public, min_ram, min_disk)),
                    key=key, reverse=descending)
    marker = request.query_params.get("marker")
    if marker is not None:
        found = next((row for row in rows if row["flavorid"] == marker), None)
        if found is None:
            raise paging.marker_not_found(marker)
        after = key(found)
        wanted = [row for row in wanted if (key(row) < after if descending
                                            else key(row) > after)]
    page = wanted[:page_limit]
    extra: dict[str, Any] = {}
    if paging.is_full(page, page_limit):
        extra["flavors_links"] = [backend.links.next_page(
            path, request.query_params.multi_items(), page[-1]["flavorid"])]
    return page, extra


def may_read_extra_specs(caller: Identity) -> bool:
    """Whether flavor bodies of 2.61 on carry ``extra_specs`` for this caller."""
    try:
        policy.authorize(caller, "os_compute_api:os-flavor-extra-specs:index")
    except (Forbidden, ItemNotFound):  # a refusal only hides the field
        return False
    return True


def detail(request: Request, backend: Backend, row: Row) -> dict[str, Any]:
    return views.flavor_detail(backend.links, row, negotiated(request.scope),
                               extra_specs=may_read_extra_specs(identity(request)))


@get("/flavors", sync_to_thread=True)
def list_flavors(request: Request, backend: BackendDep) -> dict[str, Any]:
    page, extra = _page(request, backend, "flavors")
    version = negotiated(request.scope)
    return {"flavors": [views.flavor_summary(backend.links, row, version) for row in page],
            **extra}


@get("/flavors/detail", sync_to_thread=True)
def list_flavors_detail(request: Request, backend: BackendDep) -> dict[str, Any]:
    page, extra = _page(request, backend, "flavors/detail")
    return {"flavors": [detail(request, backend, row) for row in page], **extra}


@get("/flavors/{flavor_id:str}", sync_to_thread=True)
def show_flavor(request: Request, backend: BackendDep,
                flavor_id: FromPath[str]) -> dict[str, Any]:
    row = visible_flavor(backend, identity(request), flavor_id)
    return {"flavor": detail(request, backend, row)}


# --- manage -----------------------------------------------------------------------------


@post("/flavors", status_code=200, sync_to_thread=True)
def create_flavor(request: Request, backend: BackendDep, body: RawBody) -> dict[str, Any]:
    """Record a new flavor (200, as Nova answers); 409 when its id or name is taken."""
    caller = identity(request)
    policy.authorize(caller, MANAGE + "create")
    wanted = flavor_schemas.parse_create(body, with_description=negotiated(
        request.scope) >= V2_55)
    wait(backend, flavors.create(
        backend.store, wanted.spec, is_public=wanted.is_public,
        description=wanted.description, rxtx_factor=wanted.rxtx_factor,
        context=service_context(request)))
    return {"flavor": detail(request, backend,
                             visible_flavor(backend, caller, wanted.spec.flavorid))}


@put("/flavors/{flavor_id:str}", sync_to_thread=True)
def update_flavor(request: Request, backend: BackendDep, flavor_id: FromPath[str],
                  body: RawBody) -> dict[str, Any]:
    """Change a flavor's description, the one thing that changes (2.55)."""
    if negotiated(request.scope) < V2_55:
        raise NotFoundException()
    caller = identity(request)
    policy.authorize(caller, MANAGE + "update")
    wanted = flavor_schemas.parse_update(body)
    wait(backend, flavors.describe(backend.store, flavor_id, wanted,
                                   context=service_context(request)))
    return {"flavor": detail(request, backend, visible_flavor(backend, caller, flavor_id))}


@delete("/flavors/{flavor_id:str}", status_code=202, sync_to_thread=True)
def delete_flavor(request: Request, backend: BackendDep,
                  flavor_id: FromPath[str]) -> Response[bytes]:
    """Delete a flavor (202); servers built with it keep their copy."""
    policy.authorize(identity(request), MANAGE + "delete")
    wait(backend, flavors.delete(backend.store, flavor_id, context=service_context(request)))
    return Response(content=b"", status_code=202)


HANDLERS = [list_flavors, list_flavors_detail, show_flavor, create_flavor, update_flavor,
            delete_flavor]
