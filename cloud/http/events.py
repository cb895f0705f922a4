"""``/cloud/v1/events``: the log over HTTP, paged (``?since=&limit=``) or live as
Server-Sent Events (``/cloud/v1/events/stream``), for dashboards.

Token-scoped: admins see every event; anyone else sees the events of their project's
aggregates (its servers, its quota set and usage, the project itself). Each event is
the envelope exactly as stored, plus its log ``position``.
"""

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import msgspec
from litestar import Request, Router, get
from litestar.response import ServerSentEvent, ServerSentEventMessage

from cloud.adapters.eventstore import Recorded
from cloud.http.context import Backend, BackendDep, Identity, identity
from cloud.http.faults import BadRequest
from cloud.http.policy import is_admin
from cloud.projections.queries import ReadModels

PREFIX = "/cloud/v1"
MAX_LIMIT = 1000
SCAN_PAGES = 20  # a page for a project reads at most this many log pages past ``since``
POLL_SECONDS = 0.5
# Aggregates keyed by the id of the project they belong to.
PROJECT_KEYED = frozenset({"project", "quota_set", "project_usage"})


def _int(value: str | None, name: str, default: int, *, least: int = 0) -> int:
    if value is None:
        return default
    try:
        number = int(value)
    except ValueError:
        raise BadRequest(f"{name} must be an integer, not {value!r}") from None
    if number < least:
        raise BadRequest(f"{name} must be at least {least}")
    return number


def _owners(read_models: ReadModels, server_ids: set[str]) -> dict[str, str]:
    """The project of each server (deleted ones too: their rows stay)."""
    if not server_ids:
        return {}
    rows = read_models._all("SELECT id::text AS id, project_id FROM servers"
                            " WHERE id::text = ANY(%s)", (list(server_ids),))
    return {row["id"]: row["project_id"] for row in rows}


def visible(read_models: ReadModels, caller: Identity, records: list[Recorded]) -> list[Recorded]:
    """The records this caller may see."""
    if is_admin(caller):
        return records
    servers = {r.envelope.id for r in records if r.envelope.aggregate == "instance"}
    owners = _owners(read_models, servers)
    project = caller.project_id
    return [r for r in records
            if (r.envelope.aggregate == "instance" and owners.get(r.envelope.id) == project)
            or (r.envelope.aggregate in PROJECT_KEYED and r.envelope.key == project)]


def _document(record: Recorded) -> dict[str, Any]:
    return {"position": record.position, **msgspec.json.decode(record.payload)}


def _page(backend: Backend, caller: Identity, since: int,
          limit: int) -> tuple[list[Recorded], int, bool]:
    """Up to ``limit`` visible events after ``since``; the position read up to, and
    whether the log may hold more."""
    found: list[Recorded] = []
    position = since
    for _ in range(SCAN_PAGES):
        records = backend.store.read(position, limit)
        for record in visible(backend.read_models, caller, records):
            if len(found) == limit:
                return found, found[-1].position, True
            found.append(record)
        if len(records) < limit:  # the end of the log
            return found, records[-1].position if records else position, False
        position = records[-1].position
    return found, position, True


@get("/events", sync_to_thread=True)
def list_events(request: Request, backend: BackendDep) -> dict[str, Any]:
    """A page of history after ``since``, with a ``next`` link while there may be more."""
    since = _int(request.query_params.get("since"), "since", 0)
    limit = min(_int(request.query_params.get("limit"), "limit", 100, least=1), MAX_LIMIT)
    records, reached, more = _page(backend, identity(request), since, limit)
    body: dict[str, Any] = {"events": [_document(r) for r in records], "position": reached}
    if more:
        body["next"] = f"{PREFIX}/events?since={reached}&limit={limit}"
    return body


async def _follow(backend: Backend, caller: Identity, since: int,
                  limit: int | None) -> AsyncIterator[ServerSentEventMessage]:
    sent, position = 0, since
    while limit is None or sent < limit:
        records = await asyncio.to_thread(backend.store.read, position, 500)
        if not records:
            await asyncio.sleep(POLL_SECONDS)
            continue
        shown = await asyncio.to_thread(visible, backend.read_models, caller, records)
        position = records[-1].position
        for record in shown[:None if limit is None else limit - sent]:
            yield ServerSentEventMessage(data=record.payload.decode(), event=record.envelope.event,
                                         id=str(record.position))
            sent += 1


@get("/events/stream")
async def stream_events(request: Request, backend: BackendDep) -> ServerSentEvent:
    """Live events as Server-Sent Events, from ``since`` (or ``Last-Event-ID``, or now);
    ``limit`` ends the stream after that many."""
    start = request.query_params.get("since") or request.headers.get("last-event-id")
    if start is None:
        start = str(await asyncio.to_thread(backend.store.head))
    since = _int(start, "since", 0)
    raw_limit = request.query_params.get("limit")
    limit = None if raw_limit is None else _int(raw_limit, "limit", 0, least=1)
    return ServerSentEvent(_follow(backend, identity(request), since, limit))


def router(authenticate) -> Router:
    """The native API's router; ``authenticate`` is the app's before-request hook."""
    return Router(path=PREFIX, before_request=authenticate,
                  route_handlers=[list_events, stream_events])
