"""``/os-services``: list the cloud's services, switch a compute service off and on,
force it down, delete it. Admin only.

Before 2.53 a service is named by host and binary in the body of
``PUT /os-services/{enable|disable|disable-log-reason|force-down}`` (force-down from
2.11) and by its integer id in ``DELETE``; from 2.53 by its uuid in
``PUT|DELETE /os-services/{uuid}``. 2.11 adds ``forced_down`` to the view.
"""

import datetime as dt
import uuid
from typing import Any

from litestar import Request, delete, get, put
from litestar.params import FromPath, RawBody

from cloud.domain import ids, service
from cloud.domain.service import COMPUTE, INTERNAL_ZONE
from cloud.http import service_requests as requests
from cloud.http import views
from cloud.http.context import Backend, BackendDep, identity, service_context
from cloud.http.faults import BadRequest, ItemNotFound
from cloud.http.microversions import APIVersion, negotiated
from cloud.http.policy import authorize
from cloud.projections.aggregate_queries import AggregateQueries
from cloud.projections.services import ServiceQueries
from cloud.services import compute_services

V2_11, V2_53 = APIVersion(2, 11), APIVersion(2, 53)
Row = dict[str, Any]
POLICY = "os_compute_api:os-services:"


# --- what the views and the hypervisors share --------------------------------------


def queries(backend: Backend) -> ServiceQueries:
    return ServiceQueries(backend.read_models.pool)


def state(row: Row, now: dt.datetime) -> str:
    """``up`` while it beats within the service down time and is not forced down."""
    up = service.is_up(row["last_seen_at"], forced_down=row["forced_down"], now=now,
                       down_time=compute_services.down_time())
    return "up" if up else "down"


def status(row: Row) -> str:
    return "disabled" if row["disabled"] else "enabled"


def service_id(row: Row, version: APIVersion) -> int | str:
    """The integer id before 2.53, the uuid from it."""
    if version >= V2_53:
        return str(ids.service_stream(row["host"], row["binary_name"]))
    return row["id"]


def zone(row: Row, zones: dict[str, str]) -> str:
    """A compute's availability zone (Nova's default zone unless an aggregate names
    one); every other service lives in the internal zone."""
    if row["binary_name"] != COMPUTE:
        return INTERNAL_ZONE
    return zones.get(row["host"], views.DEFAULT_AZ)


def detail(row: Row, version: APIVersion, *, now: dt.datetime,
           zones: dict[str, str]) -> dict[str, Any]:
    shown = {"id": service_id(row, version), "binary": row["binary_name"],
             "host": row["host"], "zone": zone(row, zones), "status": status(row),
             "state": state(row, now), "updated_at": views.usage_time(row["last_seen_at"]),
             "disabled_reason": row["disabled_reason"]}
    if version >= V2_11:
        shown["forced_down"] = row["forced_down"]
    return shown


def _one(rows: list[Row]) -> Row | None:
    return rows[0] if rows else None


def find(backend: Backend, key: str, version: APIVersion) -> Row | None:
    """A service by its path id: a uuid from 2.53, an integer before."""
    rows = queries(backend).services()
    if version >= V2_53:
        wanted = str(uuid.UUID(key))
        return _one([r for r in rows if service_id(r, version) == wanted])
    number = requests.integer(key)
    return _one([r for r in rows if r["id"] == number])


def _wait(backend: Backend, positions: list[int]) -> None:
    if positions:
        backend.read_models.wait_for(max(positions))


# --- handlers -----------------------------------------------------------------------


@get("/os-services", sync_to_thread=True)
def list_services(request: Request, backend: BackendDep) -> dict[str, Any]:
    """Every service, optionally of one ``host`` and/or ``binary``."""
    authorize(identity(request), POLICY + "list")
    params = request.query_params
    rows = queries(backend).services(host=params.get("host") or None,
                                     binary=params.get("binary") or None)
    version, now = negotiated(request.scope), dt.datetime.now(dt.UTC)
    zones = AggregateQueries(backend.read_models.pool).host_zones()
    return {"services": [detail(row, version, now=now, zones=zones) for row in rows]}


@put("/os-services/{key:str}", status_code=200, sync_to_thread=True)
def update_service(request: Request, backend: BackendDep, key: FromPath[str],
                   body: RawBody) -> dict[str, Any]:
    """An action by name before 2.53; an update of the service ``key`` from 2.53."""
    authorize(identity(request), POLICY + "update")
    version = negotiated(request.scope)
    if version >= V2_53:
        return _update_v253(request, backend, key, body)
    return _perform(request, backend, key, body, version)


ACTIONS = {"enable": APIVersion(2, 1), "disable": APIVersion(2, 1),
           "disable-log-reason": APIVersion(2, 1), "force-down": V2_11}
MISSING = {"disable-log-reason": ("disabled_reason", "Missing disabled reason field"),
           "force-down": ("forced_down", "Missing forced_down field")}


def _perform(request: Request, backend: Backend, action: str, body: bytes,
             version: APIVersion) -> dict[str, Any]:
    if action not in ACTIONS or version < ACTIONS[action]:
        raise ItemNotFound("Unknown action")
    fields = requests.parse(body, requests.LEGACY_2_11 if version >= V2_11
                            else requests.LEGACY, required=("host", "binary"))
    if action in MISSING and MISSING[action][0] not in fields:
        raise BadRequest(MISSING[action][1])
    host, binary = fields["host"], fields["binary"]
    service.check_updatable(binary)
    if not queries(backend).services(host=host, binary=binary):
        raise ItemNotFound(f"Could not find binary {binary} on host {host}.")
    shown: dict[str, Any] = {"host": host, "binary": binary}
    context = service_context(request)
    store = backend.store
    if action == "enable":
        positions = compute_services.enable(store, host, binary, context=context)
        shown["status"] = "enabled"
    elif action == "force-down":
        forced = fields["forced_down"]
        positions = compute_services.force_down(store, host, binary, forced_down=forced,
                                                context=context)
        shown["forced_down"] = forced
    else:
        reason = fields.get("disabled_reason") if action == "disable-log-reason" else None
        positions = compute_services.disable(store, host, binary, reason=reason,
                                             context=context)
        shown.update({"status": "disabled", **({"disabled_reason": reason} if reason else {})})
    _wait(backend, positions)
    return {"service": shown}


def _update_v253(request: Request, backend: Backend, key: str,
                 body: bytes) -> dict[str, Any]:
    if not requests.is_uuid(key):
        raise BadRequest(f"Invalid uuid {key}")
    version = negotiated(request.scope)
    row = find(backend, key, version)
    if row is None:
        raise ItemNotFound(f"Service {key} could not be found.")
    service.check_updatable(row["binary_name"])
    fields = requests.parse(body, requests.V2_53)
    _wait(backend, compute_services.update(
        backend.store, row["host"], row["binary_name"], status=fields.get("status"),
        reason=fields.get("disabled_reason"), forced_down=fields.get("forced_down"),
        context=service_context(request)))
    fresh = find(backend, key, version) or row
    return {"service": detail(fresh, version, now=dt.datetime.now(dt.UTC),
                              zones=AggregateQueries(backend.read_models.pool).host_zones())}


@delete("/os-services/{key:str}", status_code=204, sync_to_thread=True)
def delete_service(request: Request, backend: BackendDep, key: FromPath[str]) -> None:
    """Forget a service; refused while a compute still hosts servers."""
    authorize(identity(request), POLICY + "delete")
    version = negotiated(request.scope)
    if version >= V2_53 and not requests.is_uuid(key):
        raise BadRequest(f"Invalid uuid {key}")
    if version < V2_53 and requests.integer(key) is None:
        raise BadRequest("Invalid input received: id must be an integer")
    row = find(backend, key, version)
    if row is None:
        raise ItemNotFound(f"Service {key} not found.")
    hosted = len(queries(backend).servers_on([row["host"]]))
    _wait(backend, compute_services.delete(backend.store, row["host"], row["binary_name"],
                                           servers_hosted=hosted,
                                           context=service_context(request)))


HANDLERS = [list_services, update_service, delete_service]
