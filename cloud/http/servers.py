"""``/servers``: create, list, show and delete."""

import logging
import re
import secrets
from typing import Any

import msgspec
from litestar import Request, Response, delete, get, post
from litestar.params import FromPath, RawBody

from cloud.domain.events import FlavorSpec
from cloud.domain.states import api_status
from cloud.http import microversions, paging, policy, schemas, views
from cloud.http.context import Backend, BackendDep, identity, service_context
from cloud.http.faults import BadRequest, ItemNotFound
from cloud.projections.quota_queries import QuotaQueries
from cloud.services import instances

log = logging.getLogger(__name__)
Row = dict[str, Any]
Page = tuple[list[Row], dict[str, Any]]
_PASSWORD_SYMBOLS = "abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"


def _wait(backend: Backend, positions: list[int]) -> None:
    """Read-your-writes: the next GET must see what this request recorded."""
    if positions and not backend.read_models.wait_for(max(positions)):
        log.warning("read models did not reach position %s in time", max(positions))


def _visible_server(request: Request, backend: Backend, server_id: str,
                    action: str = "show") -> Row:
    """A live server the caller may act on, or 404 (ids and names alike); 403 when the
    caller's role does not allow the action."""
    row = backend.read_models.server(server_id)
    missing = f"Instance {server_id} could not be found."
    if row is None:
        raise ItemNotFound(missing)
    policy.authorize(identity(request), policy.SERVERS + action,
                     project_id=row["project_id"], hide=missing)
    return row


def _detail(request: Request, backend: Backend, row: Row) -> dict[str, Any]:
    return views.server_detail(backend.links, row,
                               status=api_status(row["vm_state"], row["task_state"]),
                               is_admin=identity(request).is_admin,
                               version=microversions.negotiated(request.scope))


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


def _options(request: Request, backend: Backend,
             server: schemas.ServerCreate) -> dict[str, Any]:
    """What the request asks of the new server besides its name, flavor and image."""
    schemas.check_microversion(server, microversions.negotiated(request.scope))
    if server.key_name is not None and QuotaQueries(backend.read_models.pool).keypair(
            identity(request).user_id, server.key_name) is None:
        raise BadRequest("Invalid key_name provided.")
    description = None if server.description is msgspec.UNSET else server.description
    return {"metadata": server.metadata, "availability_zone": server.availability_zone,
            "key_name": server.key_name, "user_data": server.user_data,
            "description": description}


@post("/servers", status_code=202, sync_to_thread=True)
def create_server(request: Request, backend: BackendDep,
                  body: RawBody) -> Response[Any]:
    """Record the request for a server; it builds asynchronously (202)."""
    server = schemas.decode_create_server(body)
    policy.authorize(identity(request), policy.SERVERS + "create")
    flavor = _flavor_spec(backend, server.flavor_ref)
    image_ref = _image_id(backend, server.image_ref)
    server_id, positions = instances.create(
        backend.store, name=server.name, flavor=flavor, image_ref=image_ref,
        context=service_context(request), **_options(request, backend, server))
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
    action = "detail" if request.url.path.endswith("/detail") else "index"
    policy.authorize(caller, policy.SERVERS + action)
    raw = request.query_params.get("all_tenants")
    # A bare ``?all_tenants`` means yes, as in Nova.
    if raw is None or not (raw == "" or paging.flag(raw, name="all_tenants")):
        return caller.project_id
    policy.authorize(caller, policy.SERVERS + action + ":get_all_tenants")
    return None


def _filters_by_address(request: Request) -> bool:
    """Whether the list is filtered by fixed address: ``ip``, and ``ip6`` (for everyone
    from 2.5 on, for admins always). No server has an address yet: nothing matches."""
    params = request.query_params
    if "ip" in params:
        return True
    return "ip6" in params and (identity(request).is_admin
                                or microversions.negotiated(request.scope) >= (2, 5))


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
    project_id = _project_filter(request)
    if _filters_by_address(request):
        return [], {}
    rows = backend.read_models.servers(
        project_id=project_id, name=_name_filter(params.get("name")),
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
    _visible_server(request, backend, server_id, "delete")
    _wait(backend, instances.delete(backend.store, server_id,
                                    context=service_context(request)))
