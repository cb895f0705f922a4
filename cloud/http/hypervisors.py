"""``/os-hypervisors``: the compute hosts as Nova's compute nodes, with usage from the
host projection and state/status from the services read model. Admin only.

By microversion: 2.28 ``cpu_info`` an object (a JSON string before); 2.33 paging with
``limit``/``marker`` and ``hypervisors_links``; 2.53 uuids for ids, the
``hypervisor_hostname_pattern`` and ``with_servers`` query parameters instead of the
``/{pattern}/search`` and ``/{pattern}/servers`` routes (gone); 2.75 ``servers`` always
present when asked for; 2.88 the usage fields leave the body, ``uptime`` joins it, and
``/statistics`` and ``/{id}/uptime`` are gone.
"""

import datetime as dt
import uuid
from typing import Any

import msgspec
from litestar import Request, get
from litestar.exceptions import NotFoundException
from litestar.params import FromPath

from cloud.domain import ids
from cloud.http import paging
from cloud.http import service_requests as requests
from cloud.http import services as svc
from cloud.http.context import Backend, BackendDep, identity
from cloud.http.faults import BadRequest, ItemNotFound, Unimplemented
from cloud.http.microversions import APIVersion, negotiated
from cloud.http.policy import authorize

V2_28, V2_33, V2_53 = APIVersion(2, 28), APIVersion(2, 33), APIVersion(2, 53)
V2_75, V2_88 = APIVersion(2, 75), APIVersion(2, 88)
Row = dict[str, Any]
POLICY = "os_compute_api:os-hypervisors:"
# Neither reported by the compute agent yet: a fixed version, the loopback address.
HYPERVISOR_VERSION = 1000
HOST_IP = "127.0.0.1"
CPU_INFO: dict[str, Any] = {}
USAGE = ("vcpus", "memory_mb", "local_gb", "vcpus_used", "memory_mb_used", "local_gb_used",
         "free_ram_mb", "free_disk_gb", "current_workload", "running_vms",
         "disk_available_least")


class Listing(msgspec.Struct, frozen=True, kw_only=True):
    """What a list request asks for: a page or a hostname pattern, servers or not."""

    detail: bool
    limit: int | None = None
    marker: str | None = None
    pattern: str | None = None
    with_servers: bool = False


# --- views ----------------------------------------------------------------------------


def hypervisor_id(row: Row, version: APIVersion) -> int | str:
    return str(ids.compute_node_id(row["name"])) if version >= V2_53 else row["service_id"]


def usage(row: Row) -> dict[str, int]:
    """Nova's usage fields of one compute node (removed from the view at 2.88)."""
    free_disk = row["disk_gb"] - row["disk_gb_used"]
    return {"vcpus": row["vcpus"], "memory_mb": row["memory_mb"], "local_gb": row["disk_gb"],
            "vcpus_used": row["vcpus_used"], "memory_mb_used": row["memory_mb_used"],
            "local_gb_used": row["disk_gb_used"],
            "free_ram_mb": row["memory_mb"] - row["memory_mb_used"],
            "free_disk_gb": free_disk, "current_workload": row["current_workload"],
            "running_vms": row["running_vms"], "disk_available_least": free_disk}


def summary(row: Row, version: APIVersion, now: dt.datetime) -> dict[str, Any]:
    return {"id": hypervisor_id(row, version),
            "hypervisor_hostname": row["hypervisor_hostname"],
            "state": svc.state(row, now), "status": svc.status(row)}


def detail(row: Row, version: APIVersion, now: dt.datetime) -> dict[str, Any]:
    service_row = {**row, "id": row["service_id"], "binary_name": svc.COMPUTE,
                   "host": row["name"]}
    shown = {**summary(row, version, now), "hypervisor_type": row["hypervisor_type"],
             "hypervisor_version": HYPERVISOR_VERSION, "host_ip": HOST_IP,
             "service": {"host": row["name"], "id": svc.service_id(service_row, version),
                         "disabled_reason": row["disabled_reason"]}}
    if version >= V2_88:
        return {**shown, "uptime": None}
    cpu_info = CPU_INFO if version >= V2_28 else msgspec.json.encode(CPU_INFO).decode()
    return {**shown, **usage(row), "cpu_info": cpu_info}


def _with_servers(shown: dict[str, Any], servers: list[Row] | None,
                  version: APIVersion) -> dict[str, Any]:
    # Before 2.75 an empty list is left out; from 2.75 it is there whenever asked for.
    if servers is None or (not servers and version < V2_75):
        return shown
    return {**shown, "servers": [{"name": s["name"], "uuid": s["id"]} for s in servers]}


def render(backend: Backend, rows: list[Row], version: APIVersion, *, detailed: bool,
           with_servers: bool) -> list[dict[str, Any]]:
    """The hypervisors, each with the servers on its host when asked for."""
    now = dt.datetime.now(dt.UTC)
    view = detail if detailed else summary
    hosted: dict[str, list[Row]] = {row["name"]: [] for row in rows}
    if with_servers:
        for server in svc.queries(backend).servers_on(list(hosted)):
            hosted[server["host"]].append(server)
    return [_with_servers(view(row, version, now),
                          hosted[row["name"]] if with_servers else None, version)
            for row in rows]


# --- reading requests -----------------------------------------------------------------


def _flag(raw: str | None, name: str) -> bool:
    return False if raw is None else requests.boolean(name, raw, kind="query parameters")


def listing(request: Request, *, detailed: bool) -> Listing:
    """The list request as this microversion reads it (2.53 refuses unknown params)."""
    version, params = negotiated(request.scope), request.query_params
    if version < V2_33:
        return Listing(detail=detailed)
    limit = paging.limit(params.get("limit")) if "limit" in params else None
    if version < V2_53:
        return Listing(detail=detailed, limit=limit, marker=params.get("marker"))
    paging.only(request.query_params,
                {"limit", "marker", "hypervisor_hostname_pattern", "with_servers"})
    pattern = params.get("hypervisor_hostname_pattern")
    if pattern is not None and ("limit" in params or "marker" in params):
        raise BadRequest("Paging over hypervisors with the hypervisor_hostname_pattern"
                         " query parameter is not supported.")
    return Listing(detail=detailed, limit=limit, marker=params.get("marker"),
                   pattern=pattern, with_servers=_flag(params.get("with_servers"),
                                                       "with_servers"))


def matching(backend: Backend, pattern: str) -> list[Row]:
    """Hypervisors whose hostname contains the pattern (Nova's LIKE), or 404."""
    rows = [row for row in svc.queries(backend).hypervisors()
            if pattern in row["hypervisor_hostname"]]
    if not rows:
        raise ItemNotFound(f"No hypervisor matching '{pattern}' could be found.")
    return rows


def _page(request: Request, backend: Backend, wanted: Listing) -> dict[str, Any]:
    version = negotiated(request.scope)
    if wanted.pattern is not None:
        rows = matching(backend, wanted.pattern)
    else:
        rows = svc.queries(backend).hypervisors()
    key = lambda row: str(hypervisor_id(row, version))  # noqa: E731
    page_limit = wanted.limit if wanted.limit is not None else paging.MAX_LIMIT
    page = list(paging.after_marker(rows, wanted.marker, key))[:page_limit]
    body: dict[str, Any] = {"hypervisors": render(
        backend, page, version, detailed=wanted.detail, with_servers=wanted.with_servers)}
    if version >= V2_33 and wanted.pattern is None and paging.is_full(page, page_limit):
        path = "os-hypervisors/detail" if wanted.detail else "os-hypervisors"
        body["hypervisors_links"] = [backend.links.next_page(
            path, request.query_params.multi_items(), key(page[-1]))]
    return body


def _gone_at(request: Request, version: APIVersion) -> None:
    # A route that no longer exists at the requested microversion is a bare 404.
    if negotiated(request.scope) >= version:
        raise NotFoundException()


def find(backend: Backend, key: str, version: APIVersion) -> Row:
    """One hypervisor by its path id: a uuid from 2.53 (400 if not one), an integer
    before (404 if not one)."""
    missing = ItemNotFound(f"Hypervisor with ID '{key}' could not be found.")
    if version >= V2_53 and not requests.is_uuid(key):
        raise BadRequest(f"Invalid uuid {key}")
    if version < V2_53 and requests.integer(key) is None:
        raise missing
    wanted = str(uuid.UUID(key)) if version >= V2_53 else requests.integer(key)
    for row in svc.queries(backend).hypervisors():
        if hypervisor_id(row, version) == wanted:
            return row
    raise missing


# --- handlers -------------------------------------------------------------------------


@get("/os-hypervisors", sync_to_thread=True)
def list_hypervisors(request: Request, backend: BackendDep) -> dict[str, Any]:
    authorize(identity(request), POLICY + "list")
    return _page(request, backend, listing(request, detailed=False))


@get("/os-hypervisors/detail", sync_to_thread=True)
def list_hypervisors_detail(request: Request, backend: BackendDep) -> dict[str, Any]:
    authorize(identity(request), POLICY + "list-detail")
    return _page(request, backend, listing(request, detailed=True))


@get("/os-hypervisors/statistics", sync_to_thread=True)
def statistics(request: Request, backend: BackendDep) -> dict[str, Any]:
    """Usage summed over every hypervisor (before 2.88)."""
    _gone_at(request, V2_88)
    authorize(identity(request), POLICY + "statistics")
    rows = svc.queries(backend).hypervisors()
    totals = {field: sum(usage(row)[field] for row in rows) for field in USAGE}
    return {"hypervisor_statistics": {"count": len(rows), **totals}}


@get("/os-hypervisors/{key:str}", sync_to_thread=True)
def show_hypervisor(request: Request, backend: BackendDep,
                    key: FromPath[str]) -> dict[str, Any]:
    authorize(identity(request), POLICY + "show")
    version = negotiated(request.scope)
    with_servers = False
    if version >= V2_53:
        paging.only(request.query_params, {"with_servers"})
        with_servers = _flag(request.query_params.get("with_servers"), "with_servers")
    row = find(backend, key, version)
    shown = render(backend, [row], version, detailed=True, with_servers=with_servers)
    return {"hypervisor": shown[0]}


@get("/os-hypervisors/{key:str}/uptime", sync_to_thread=True)
def uptime(request: Request, backend: BackendDep, key: FromPath[str]) -> dict[str, Any]:
    """A known hypervisor's uptime (before 2.88): agents do not report it, so this is
    Nova's answer for a driver without it, 501, which clients take as "not known" (the
    ``openstack hypervisor show`` of a known host still shows it, without an uptime)."""
    _gone_at(request, V2_88)
    authorize(identity(request), POLICY + "uptime")
    find(backend, key, negotiated(request.scope))
    raise Unimplemented("Virt driver does not implement host uptime.")


@get("/os-hypervisors/{pattern:str}/search", sync_to_thread=True)
def search(request: Request, backend: BackendDep, pattern: FromPath[str]) -> dict[str, Any]:
    """Hypervisors by hostname pattern (before 2.53)."""
    _gone_at(request, V2_53)
    authorize(identity(request), POLICY + "search")
    rows = matching(backend, pattern)
    return {"hypervisors": render(backend, rows, negotiated(request.scope), detailed=False,
                                  with_servers=False)}


@get("/os-hypervisors/{pattern:str}/servers", sync_to_thread=True)
def servers(request: Request, backend: BackendDep, pattern: FromPath[str]) -> dict[str, Any]:
    """Hypervisors by hostname pattern with their servers (before 2.53)."""
    _gone_at(request, V2_53)
    authorize(identity(request), POLICY + "servers")
    rows = matching(backend, pattern)
    return {"hypervisors": render(backend, rows, negotiated(request.scope), detailed=False,
                                  with_servers=True)}


HANDLERS = [list_hypervisors, list_hypervisors_detail, statistics, show_hypervisor, uptime,
            search, servers]
