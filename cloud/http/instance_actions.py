"""``/servers/{id}/os-instance-actions``: what was done to a server, request by request.

Microversions: 2.21 lists the actions of deleted servers too; 2.51 shows the steps
(``events``) to the server's project, not only to admins; 2.58 adds ``updated_at`` and
paging (``limit``, ``marker`` = a request id, ``changes-since``); 2.62 adds each step's
``hostId`` (and ``host`` for admins); 2.66 adds ``changes-before``; 2.84 adds
``details`` (the fault message) for admins. Tracebacks are for admins only.
"""

import datetime as dt
from typing import Any, NamedTuple

from litestar import Request, get
from litestar.params import FromPath

from cloud.http import paging, policy, views
from cloud.http.context import Backend, BackendDep, identity
from cloud.http.faults import BadRequest, Forbidden, ItemNotFound
from cloud.http.microversions import APIVersion, negotiated
from cloud.projections.instance_actions import InstanceActionQueries

Row = dict[str, Any]
JSON = dict[str, Any]
V2_21, V2_51, V2_58 = APIVersion(2, 21), APIVersion(2, 51), APIVersion(2, 58)
V2_62, V2_66, V2_84 = APIVersion(2, 62), APIVersion(2, 66), APIVersion(2, 84)
POLICY = "os_compute_api:os-instance-actions:"
# The list's query parameters and the microversion each is accepted from (before 2.58
# every query parameter is ignored; from 2.58 unknown ones are refused).
QUERY_SINCE = {"limit": V2_58, "marker": V2_58, "changes-since": V2_58,
               "changes-before": V2_66}


# --- views (pure) ---------------------------------------------------------------------


class StepFields(NamedTuple):
    """Which optional fields of a step a caller sees at a microversion."""

    traceback: bool
    host: bool
    host_id: bool
    details: bool


def step_fields(version: APIVersion, *, sees_all: bool,
                sees_details: bool) -> StepFields | None:
    """``None`` when the caller sees no steps at all (a non-admin before 2.51)."""
    if not sees_all and version < V2_51:
        return None
    return StepFields(traceback=sees_all, host=sees_all and version >= V2_62,
                      host_id=version >= V2_62, details=sees_details and version >= V2_84)


def action_view(row: Row, version: APIVersion) -> JSON:
    body = {"action": row["action"], "instance_uuid": row["instance_uuid"],
            "request_id": row["request_id"], "user_id": row["user_id"],
            "project_id": row["project_id"], "start_time": views.usage_time(row["start_time"]),
            "message": row["message"]}
    if version >= V2_58:
        body["updated_at"] = views.usage_time(row["updated_at"])
    return body


def step_view(row: Row, *, project_id: str, fields: StepFields) -> JSON:
    body = {"event": row["event"], "start_time": views.usage_time(row["start_time"]),
            "finish_time": views.usage_time(row["finish_time"]), "result": row["result"]}
    if fields.traceback:
        body["traceback"] = row["traceback"]
    if fields.host:
        body["host"] = row["host"]
    if fields.host_id:
        body["hostId"] = views.host_id(project_id, row["host"])
    if fields.details:
        body["details"] = row["details"]
    return body


# --- lookups and query parameters -----------------------------------------------------


def _server(request: Request, queries: InstanceActionQueries, server_id: str,
            action: str) -> Row:
    """The server (deleted ones too from 2.21), or 404 when missing or not the caller's."""
    row = queries.server(server_id, with_deleted=negotiated(request.scope) >= V2_21)
    missing = f"Instance {server_id} could not be found."
    if row is None:
        raise ItemNotFound(missing)
    policy.authorize(identity(request), POLICY + action, project_id=row["project_id"],
                     hide=missing)
    return row


def _allowed(request: Request, action: str, project_id: str) -> bool:
    try:
        policy.authorize(identity(request), POLICY + action, project_id=project_id)
    except (Forbidden, ItemNotFound):
        return False
    return True


def _query(request: Request) -> dict[str, str]:
    """The list's query parameters this microversion knows, each given at most once."""
    version = negotiated(request.scope)
    if version < V2_58:
        return {}
    params = request.query_params
    for name in params:
        if version < QUERY_SINCE.get(name, APIVersion(99, 0)):
            raise BadRequest("Invalid input for query parameters. Additional properties"
                             f" are not allowed ('{name}' was unexpected)")
        if len(params.getall(name)) > 1:
            raise BadRequest(f"Invalid input for query parameters {name}. Value:"
                             f" {params.getall(name)}. Expected a single value.")
    return {name: params[name] for name in params}


def _moment(name: str, raw: str | None) -> dt.datetime | None:
    if raw is None:
        return None
    try:
        moment = dt.datetime.fromisoformat(raw)
    except ValueError:
        raise BadRequest(f"Invalid input for query parameters {name}. Value: {raw}."
                         f" '{raw}' is not a 'date-time'") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def _window(query: dict[str, str]) -> tuple[dt.datetime | None, dt.datetime | None]:
    since = _moment("changes-since", query.get("changes-since"))
    before = _moment("changes-before", query.get("changes-before"))
    if since and before and before < since:
        raise BadRequest("The value of changes-since must be less than or equal to"
                         " changes-before.")
    return since, before


def _page(request: Request, backend: Backend, queries: InstanceActionQueries,
          server_id: str) -> JSON:
    """Newest first; from 2.58 a page of them, with a ``next`` link when it is full."""
    query = _query(request)
    page_limit = paging.limit(query.get("limit"))
    marker = None
    if "marker" in query:
        marker = queries.action(server_id, query["marker"])
        if marker is None:
            raise BadRequest(f"Marker {query['marker']} could not be found.")
    since, before = _window(query)
    rows = queries.actions(server_id, limit=page_limit, after=marker, since=since,
                           before=before)
    version = negotiated(request.scope)
    body: JSON = {"instanceActions": [action_view(row, version) for row in rows]}
    if version >= V2_58 and paging.is_full(rows, page_limit):
        body["links"] = [backend.links.next_page(
            f"servers/{server_id}/os-instance-actions", request.query_params.multi_items(),
            rows[-1]["request_id"])]
    return body


# --- handlers -------------------------------------------------------------------------


@get("/servers/{server_id:str}/os-instance-actions", sync_to_thread=True)
def list_instance_actions(request: Request, backend: BackendDep,
                          server_id: FromPath[str]) -> JSON:
    queries = InstanceActionQueries(backend.read_models.pool)
    server = _server(request, queries, server_id, "list")
    return _page(request, backend, queries, server["id"])


@get("/servers/{server_id:str}/os-instance-actions/{request_id:str}", sync_to_thread=True)
def show_instance_action(request: Request, backend: BackendDep, server_id: FromPath[str],
                         request_id: FromPath[str]) -> JSON:
    queries = InstanceActionQueries(backend.read_models.pool)
    server = _server(request, queries, server_id, "show")
    row = queries.action(server["id"], request_id)
    if row is None:
        raise ItemNotFound(f"Action {request_id} not found")
    version = negotiated(request.scope)
    body = action_view(row, version)
    fields = step_fields(
        version, sees_all=_allowed(request, "events", server["project_id"]),
        sees_details=_allowed(request, "events:details", server["project_id"]))
    if fields is not None:
        # Nova hashes the host with the project of whoever asked for the action.
        project_id = row["project_id"] or server["project_id"]
        body["events"] = [step_view(step, project_id=project_id, fields=fields)
                          for step in queries.events(server["id"], request_id)]
    return {"instanceAction": body}


HANDLERS = [list_instance_actions, show_instance_action]
