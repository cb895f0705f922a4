"""``/os-simple-tenant-usage``: hours, vCPU, RAM and disk use of each project's servers
over a window (``start``/``end``), from the ``servers`` read model, deleted ones included.

The list is admin only (``detailed=1`` adds each server); a project's reader may see its
own project's usage. A server counts from ``launched_at`` to ``terminated_at`` (or the
end of the window, which never passes now). By microversion: 2.40 paging with
``limit``/``marker`` over the servers counted and ``tenant_usages_links`` /
``tenant_usage_links``; 2.75 unknown query parameters are a 400.
"""

import datetime as dt
from typing import Any

from litestar import Request, get
from litestar.params import FromPath

from cloud.http import paging, views
from cloud.http.context import Backend, BackendDep, identity
from cloud.http.faults import BadRequest
from cloud.http.microversions import APIVersion, negotiated
from cloud.http.policy import authorize
from cloud.projections.usage_queries import UsageQueries

V2_40, V2_75 = APIVersion(2, 40), APIVersion(2, 75)
Row = dict[str, Any]
POLICY = "os_compute_api:os-simple-tenant-usage:"
COLLECTION = "os-simple-tenant-usage"
# The spellings Nova's _parse_datetime tries, in its order.
TIME_FORMATS = ("%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M:%S.%f", "%Y-%m-%d %H:%M:%S.%f")


# --- reading requests -----------------------------------------------------------------


def _moment(raw: str | None, now: dt.datetime) -> dt.datetime:
    """A ``start``/``end`` parameter as UTC (now when absent or empty), or 400."""
    if not raw:
        return now
    for fmt in TIME_FORMATS:
        try:
            return dt.datetime.strptime(raw, fmt).replace(tzinfo=dt.UTC)
        except ValueError:
            continue
    raise BadRequest("Invalid datetime string: Datetime is in invalid format")


def window(request: Request, now: dt.datetime) -> tuple[dt.datetime, dt.datetime]:
    """The period asked for, its end cut at now. Both absent: the empty period at now
    (Nova reads the clock twice there, a few microseconds apart)."""
    params = request.query_params
    start, end = _moment(params.get("start"), now), _moment(params.get("end"), now)
    asked = bool(params.get("start") or params.get("end"))
    if asked and not start < end:
        raise BadRequest("Invalid start time. The start time cannot occur after the end"
                         " time.")
    return start, min(end, now)


def page_asked(request: Request, allowed: set[str]) -> tuple[int, str | None]:
    """Limit and marker: from 2.40; before, the first ``MAX_LIMIT`` servers."""
    version, params = negotiated(request.scope), request.query_params
    if version >= V2_75:
        paging.only(request.query_params, allowed | {"limit", "marker"})
    if version < V2_40:
        return paging.MAX_LIMIT, None
    return paging.limit(params.get("limit")), params.get("marker")


# --- usage ----------------------------------------------------------------------------


def hours(row: Row, start: dt.datetime, end: dt.datetime) -> float:
    """The hours of the server's life inside [start, end] (never below zero)."""
    begin = max(row["launched_at"], start)
    stop = end if row["terminated_at"] is None else min(end, row["terminated_at"])
    return max((stop - begin).total_seconds(), 0.0) / 3600.0


def server_usage(row: Row, start: dt.datetime, end: dt.datetime,
                 now: dt.datetime) -> dict[str, Any]:
    flavor, ended = row["flavor"], row["terminated_at"]
    return {"instance_id": row["id"], "name": row["name"], "tenant_id": row["project_id"],
            "hours": hours(row, start, end), "flavor": flavor["name"],
            "vcpus": flavor["vcpus"], "memory_mb": flavor["ram"],
            "local_gb": flavor["disk"] + flavor.get("ephemeral", 0),
            "started_at": views.usage_time(row["launched_at"]),
            "ended_at": views.usage_time(ended),
            "state": "terminated" if ended is not None else row["vm_state"],
            "uptime": int(((ended or now) - row["launched_at"]).total_seconds())}


def summarise(usages: list[dict[str, Any]], start: dt.datetime, end: dt.datetime, *,
              detailed: bool) -> list[dict[str, Any]]:
    """One usage per project, in the order its first server comes."""
    projects: dict[str, dict[str, Any]] = {}
    for usage in usages:
        tenant = projects.setdefault(usage["tenant_id"], {
            "tenant_id": usage["tenant_id"], **({"server_usages": []} if detailed else {}),
            "total_local_gb_usage": 0, "total_vcpus_usage": 0, "total_memory_mb_usage": 0,
            "total_hours": 0, "start": views.usage_time(start),
            "stop": views.usage_time(end)})
        tenant["total_local_gb_usage"] += usage["local_gb"] * usage["hours"]
        tenant["total_vcpus_usage"] += usage["vcpus"] * usage["hours"]
        tenant["total_memory_mb_usage"] += usage["memory_mb"] * usage["hours"]
        tenant["total_hours"] += usage["hours"]
        if detailed:
            tenant["server_usages"].append(usage)
    return list(projects.values())


def _usages(request: Request, backend: Backend, *, project_id: str | None,
            allowed: set[str]) -> tuple[list[dict[str, Any]], dt.datetime, dt.datetime]:
    now = dt.datetime.now(dt.UTC)
    limit, marker = page_asked(request, allowed)
    start, end = window(request, now)
    queries = UsageQueries(backend.read_models.pool)
    if marker is not None and not queries.has_server(marker):
        raise BadRequest(f"Marker {marker} could not be found.")
    rows = queries.active_in(start, end, project_id=project_id, limit=limit, marker=marker)
    return [server_usage(row, start, end, now) for row in rows], start, end


def _links(request: Request, backend: Backend, usages: list[dict[str, Any]],
           path: str) -> list[dict[str, str]]:
    # Nova's collection links: a next page whenever this one holds `limit` servers.
    if negotiated(request.scope) < V2_40:
        return []
    if not paging.is_full(usages, paging.limit(request.query_params.get("limit"))):
        return []
    return [backend.links.next_page(path, request.query_params.multi_items(),
                                    usages[-1]["instance_id"])]


# --- handlers -------------------------------------------------------------------------


@get("/os-simple-tenant-usage", sync_to_thread=True)
def list_usage(request: Request, backend: BackendDep) -> dict[str, Any]:
    """Every project's usage over the window (admin)."""
    authorize(identity(request), POLICY + "list")
    usages, start, end = _usages(request, backend, project_id=None,
                                 allowed={"start", "end", "detailed"})
    detailed = request.query_params.get("detailed", "0") == "1"
    body: dict[str, Any] = {"tenant_usages": summarise(usages, start, end,
                                                       detailed=detailed)}
    links = _links(request, backend, usages, COLLECTION)
    if links:
        body["tenant_usages_links"] = links
    return body


@get("/os-simple-tenant-usage/{tenant_id:str}", sync_to_thread=True)
def show_usage(request: Request, backend: BackendDep,
               tenant_id: FromPath[str]) -> dict[str, Any]:
    """One project's usage with its servers (``{}`` when it had none)."""
    authorize(identity(request), POLICY + "show", project_id=tenant_id)
    usages, start, end = _usages(request, backend, project_id=tenant_id,
                                 allowed={"start", "end"})
    summaries = summarise(usages, start, end, detailed=True)
    body: dict[str, Any] = {"tenant_usage": summaries[0] if summaries else {}}
    links = _links(request, backend, usages, f"{COLLECTION}/{tenant_id}")
    if links:
        body["tenant_usage_links"] = links
    return body


HANDLERS = [list_usage, show_usage]
