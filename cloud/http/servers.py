"""``/servers``: create, list, show and delete."""

import logging
import secrets
from typing import Any

import msgspec
from litestar import Request, Response, delete, get, post
from litestar.params import FromPath, RawBody

from cloud.domain.events import FlavorSpec
from cloud.domain.states import api_status
from cloud.http import flavors, microversions, paging, policy, schemas, views
from cloud.http import scheduler_hints, server_groups
from cloud.http import server_fields, server_filters, server_requests_late
from cloud.http import server_views_late
from cloud.http.context import Backend, BackendDep, Identity, identity, service_context
from cloud.http.faults import BadRequest, ItemNotFound
from cloud.projections.quota_queries import QuotaQueries
from cloud.projections import server_queries
from cloud.services import instances, server_actions

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
    version = microversions.negotiated(request.scope)
    return views.server_detail(backend.links,
                               server_views_late.with_image(backend, row, version),
                               status=api_status(row["vm_state"], row["task_state"]),
                               is_admin=identity(request).is_admin, version=version)


# --- create ---------------------------------------------------------------------------


def _flavor_spec(backend: Backend, flavor_ref: str | int,
                 caller: Identity | None = None) -> FlavorSpec:
    """The flavor's copy the server keeps (extra specs too); 400 when it is missing or
    is private and ``caller`` has no access."""
    return flavors.usable_flavor(backend, caller, schemas.flavor_id(flavor_ref))


def _image_id(backend: Backend, image_ref: str) -> str:
    if backend.read_models.image(image_ref) is None:
        raise BadRequest(f"Image {image_ref} could not be found.")
    return image_ref


def _password() -> str:
    return "".join(secrets.choice(_PASSWORD_SYMBOLS) for _ in range(12))


def _zone(request: Request, backend: Backend,
          server: schemas.ServerCreate) -> tuple[str | None, str | None]:
    """The zone asked for, and the host an admin names in it with Nova's
    ``ZONE:HOST[:NODE]`` form (which, as the 2.74 ``host``, the scheduler then checks)."""
    zone = server.availability_zone
    if zone is None or ":" not in zone:
        return zone, None
    policy.authorize(identity(request), policy.SERVERS + "create:forced_host")
    if server.host is not msgspec.UNSET or server.hypervisor_hostname is not msgspec.UNSET:
        raise BadRequest("A host named in availability_zone cannot be given with host or"
                         " hypervisor_hostname as well.")
    zone, host, node = server_requests_late.forced_zone(zone)
    return zone, server_requests_late.named_host(host, node, backend.read_models.hosts())


def _options(request: Request, backend: Backend, server: schemas.ServerCreate,
             zone: str | None, forced_host: str | None) -> dict[str, Any]:
    """What the request asks of the new server besides its name, flavor and image."""
    version = microversions.negotiated(request.scope)
    schemas.check_microversion(server, version)
    late = server_requests_late.create_options(server, version)
    if server.host is not msgspec.UNSET or server.hypervisor_hostname is not msgspec.UNSET:
        policy.authorize(identity(request), "compute:servers:create:requested_destination")
        late["requested_host"] = server_requests_late.destination(
            server, backend.read_models.hosts())
    elif forced_host is not None:
        late["requested_host"] = forced_host
    if server.key_name is not None and QuotaQueries(backend.read_models.pool).keypair(
            identity(request).user_id, server.key_name) is None:
        raise BadRequest("Invalid key_name provided.")
    description = None if server.description is msgspec.UNSET else server.description
    return {"metadata": server.metadata, "availability_zone": zone,
            "key_name": server.key_name, "user_data": server.user_data,
            "description": description,
            "tags": [] if server.tags is msgspec.UNSET else server.tags,
            "access_ipv4": server.access_ipv4, "access_ipv6": server.access_ipv6,
            "min_count": int(server.min_count), "max_count": int(server.max_count),
            **late}


@post("/servers", status_code=202, sync_to_thread=True)
def create_server(request: Request, backend: BackendDep,
                  body: RawBody) -> Response[Any]:
    """Record the request for a server; it builds asynchronously (202)."""
    server = schemas.decode_create_server(body)
    policy.authorize(identity(request), policy.SERVERS + "create")
    flavor = _flavor_spec(backend, server.flavor_ref, identity(request))
    image_ref = _image_id(backend, server.image_ref)
    zone, forced_host = _zone(request, backend, server)
    server_ids, reservation_id, positions = instances.create_many(
        backend.store, name=server.name, flavor=flavor, image_ref=image_ref,
        context=service_context(request),
        **_options(request, backend, server, zone, forced_host),
        **scheduler_hints.options(request, backend, body, zone))
    _wait(backend, positions)
    if server_fields.flag("return_reservation_id", server.return_reservation_id):
        return Response({"reservation_id": reservation_id}, status_code=202)
    # Several servers at once: Nova answers with the first one.
    created = views.created_server(backend.links, server_ids[0],
                                   admin_pass=server.admin_pass or _password())
    return Response(created, status_code=202, headers={
        "Location": backend.links.self_href("servers", server_ids[0])})


# --- list -----------------------------------------------------------------------------


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


def _page(request: Request, backend: Backend, path: str) -> Page:
    """The servers this request asks for, filtered and sorted as asked (newest first by
    default), and ``servers_links`` when the page is full."""
    params = request.query_params
    page_limit = paging.limit(params.get("limit"))
    project_id = _project_filter(request)
    version, is_admin = microversions.negotiated(request.scope), identity(request).is_admin
    filters = server_filters.filters_for(params, version, is_admin=is_admin,
                                         project_id=project_id)
    sort = server_queries.full_sort(server_filters.sort_for(params, version,
                                                            is_admin=is_admin))
    marker = None
    if params.get("marker") is not None:
        marker = server_queries.marker_position(backend.read_models.pool,
                                                params["marker"], sort)
        if marker is None:
            raise paging.marker_not_found(params["marker"])
    if filters is None:
        return [], {}
    rows = server_queries.list_servers(backend.read_models.pool, filters, sort=sort,
                                       limit=page_limit, marker=marker)
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
    return {"server": _detail(request, backend, server_groups.with_groups(
        backend, row, microversions.negotiated(request.scope)))}


@delete("/servers/{server_id:str}", status_code=204, sync_to_thread=True)
def delete_server(request: Request, backend: BackendDep,
                  server_id: FromPath[str]) -> None:
    """Ask for the server to go away; without a host it is gone at once."""
    _visible_server(request, backend, server_id, "delete")
    _wait(backend, server_actions.delete(backend.store, server_id,
                                         context=service_context(request),
                                         is_admin=identity(request).is_admin))
