"""``/servers``: create, list, show and delete."""

import logging
import re
import secrets
from typing import Any

from litestar import Request, Response, delete, get, post
from litestar.params import FromPath, RawBody

from cloud.domain.events import FlavorSpec
from cloud.domain.states import api_status
from cloud.http import paging, schemas, views
from cloud.http.context import Backend, BackendDep, identity, service_context
from cloud.http.faults import BadRequest, ItemNotFound
from cloud.services import instances

log = logging.getLogger(__name__)
Row = dict[str, Any]
Page = tuple[list[Row], dict[str, Any]]
_PASSWORD_SYMBOLS = "abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"


def _wait(backend: Backend, positions: list[int]) -> None:
    """Read-your-writes: the next GET must see what this request recorded."""
    if positions and not backend.read_models.wait_for(max(positions)):
        log.warning("read models did not reach position %s in time", max(positions))


def _visible_server(request: Request, backend: Backend, server_id: str) -> Row:
    """A live server the caller may see, or 404 (ids and names alike)."""
    row = backend.read_models.server(server_id)
    caller = identity(request)
    if row is None or not (caller.is_admin or row["project_id"] == caller.project_id):
        raise ItemNotFound(f"Instance {server_id} could not be found.")
    return row


def _detail(request: Request, backend: Backend, row: Row) -> dict[str, Any]:
    return views.server_detail(backend.links, row,
                               status=api_status(row["vm_state"], row["task_state"]),
                               is_admin=identity(request).is_admin)


# --- create ---------------------------------------------------------------------------


def _flavor_spec(backend: Backend, flavor_ref: str | int) -> FlavorSpec:
    flavor_id = schemas.flavor_id(flavor_ref)
    row = backend.read_models.flavor(flavor_id)
    if row is None:
        raise BadRequest(f"Flavor {flavor_id} could not be found.")
    return FlavorSpec(flavorid=row["flavorid"], name=row["name"], vcpus=row["vcpus"],
                      ram=row["ram"], disk=row["disk"], ephemeral=row["ephemeral"],
                      swap=row["swap"])


def _image_id(backend: Backend, image_ref: str) -> str:
    if backend.read_models.image(image_ref) is None:
        raise BadRequest(f"Image {image_ref} could not be found.")
    return image_ref


def _password() -> str:
    return "".join(secrets.choice(_PASSWORD_SYMBOLS) for _ in range(12))


@post("/servers", status_code=202, sync_to_thread=True)
def create_server(request: Request, backend: BackendDep,
                  body: RawBody) -> Response[Any]:
    """Record the request for a server; it builds asynchronously (202)."""
    server = schemas.decode_create_server(body)
    flavor = _flavor_spec(backend, server.flavor_ref)
    image_ref = _image_id(backend, server.image_ref)
    server_id, positions = instances.create(
        backend.store, name=server.name, flavor=flavor, image_ref=image_ref,
        context=service_context(request), metadata=server.metadata,
        availability_zone=server.availability_zone, key_name=server.key_name)
    _wait(backend, positions)
    created = views.created_server(backend.links, server_id,
                                   admin_pass=server.admin_pass or _password())
    return Response(created, status_code=202,
                    headers={"Location": backend.links.self_href("servers", server_id)})


# --- list -----------------------------------------------------------------------------


def _name_filter(raw: str | None) -> str | None:
    if raw is None:
        return None
    try:
        re.compile(raw)
    except re.error as error:
        raise BadRequest(f"Invalid name filter [{raw}]: {error}") from None
    return raw


def _project_filter(request: Request) -> str | None:
    """Admins see every project with ``all_tenants``; everyone else only their own."""
    caller = identity(request)
    raw = request.query_params.get("all_tenants")
    if raw is None or not caller.is_admin:
        return caller.project_id
    # A bare ``?all_tenants`` means yes, as in Nova.
    return None if raw == "" or paging.flag(raw, name="all_tenants") else caller.project_id


def _marker(backend: Backend, raw: str | None) -> tuple | None:
    if raw is None:
        return None
    marker = backend.read_models.marker(raw)
    if marker is None:
        raise paging.marker_not_found(raw)
    return marker


def _page(request: Request, backend: Backend, path: str) -> Page:
    """The servers this request asks for, newest first, and ``servers_links`` if any."""
    params = request.query_params
    page_limit = paging.limit(params.get("limit"))
    rows = backend.read_models.servers(
        project_id=_project_filter(request), name=_name_filter(params.get("name")),
        limit=page_limit, marker=_marker(backend, params.get("marker")))
    extra: dict[str, Any] = {}
    if paging.is_full(rows, page_limit):
        extra["servers_links"] = [backend.links.next_page(
            path, params.multi_items(), rows[-1]["id"])]
    return rows, extra


@get("/servers", sync_to_thread=True)
def list_servers(request: Request, backend: BackendDep) -> dict[str, Any]:
    rows, extra = _page(request, backend, "servers")
    return {"servers": [views.server_summary(backend.links, row) for row in rows], **extra}


@get("/servers/detail", sync_to_thread=True)
def list_servers_detail(request: Request, backend: BackendDep) -> dict[str, Any]:
    rows, extra = _page(request, backend, "servers/detail")
    return {"servers": [_detail(request, backend, row) for row in rows], **extra}


# --- show, delete ---------------------------------------------------------------------


@get("/servers/{server_id:str}", sync_to_thread=True)
def show_server(request: Request, backend: BackendDep,
                server_id: FromPath[str]) -> dict[str, Any]:
    row = _visible_server(request, backend, server_id)
    return {"server": _detail(request, backend, row)}


@delete("/servers/{server_id:str}", status_code=204, sync_to_thread=True)
def delete_server(request: Request, backend: BackendDep,
                  server_id: FromPath[str]) -> None:
    """Ask for the server to go away; without a host it is gone at once."""
    _visible_server(request, backend, server_id)
    _wait(backend, instances.delete(backend.store, server_id,
                                    context=service_context(request)))
