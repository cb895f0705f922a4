"""``cloud audit project <id>`` / ``cloud audit user <id>``: who did what, from the log.

A project's history is every event caused by someone in it, plus every event of an
aggregate that belongs to it (any aggregate with an event naming the project in its
``project_id``, or keyed by the project's id: its servers, quota set, usage, the
project itself). A user's is every event the user caused, plus the events of the user
aggregate itself (roles granted, password changed).
"""

import datetime as dt
import json
import sys

import msgspec
import psycopg

from cloud.adapters.eventstore import EVENTS_TABLE

_DOC = "convert_from(state, 'UTF8')::jsonb"
_QUERIES = {
    "project": f"""
        WITH e AS (SELECT notification_id, originator_id, {_DOC} AS doc FROM {EVENTS_TABLE}),
        owned AS (SELECT DISTINCT originator_id FROM e
                  WHERE doc->'data'->>'project_id' = %(key)s OR doc->>'key' = %(key)s)
        SELECT notification_id, doc FROM e
        WHERE doc->'actor'->>'project_id' = %(key)s
           OR originator_id IN (SELECT originator_id FROM owned)
        ORDER BY notification_id""",
    "user": f"""
        SELECT notification_id, doc FROM
            (SELECT notification_id, {_DOC} AS doc FROM {EVENTS_TABLE}) e
        WHERE doc->'actor'->>'user_id' = %(key)s
           OR (doc->>'aggregate' = 'user' AND doc->>'key' = %(key)s)
        ORDER BY notification_id""",
}


def parse_time(text: str | None) -> dt.datetime | None:
    """An ISO 8601 time (UTC when it names no zone)."""
    if text is None:
        return None
    try:
        moment = dt.datetime.fromisoformat(text)
    except ValueError:
        raise SystemExit(f"not an ISO 8601 time: {text!r}") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def _within(doc: dict, since: dt.datetime | None, until: dt.datetime | None) -> bool:
    if since is None and until is None:
        return True
    try:
        moment = parse_time(doc.get("timestamp"))
    except SystemExit:
        return False  # an event without a readable time cannot be placed in a window
    return (since is None or moment >= since) and (until is None or moment < until)


def events_of(database_url: str, kind: str, key: str, *, since: str | None = None,
              until: str | None = None) -> list[dict]:
    """The events of a project or user, oldest first, as rows for people and machines."""
    start, end = parse_time(since), parse_time(until)
    with psycopg.connect(database_url) as conn:
        found = conn.execute(_QUERIES[kind], {"key": key}).fetchall()
    return [_row(position, doc) for position, doc in found if _within(doc, start, end)]


def _row(position: int, doc: dict) -> dict:
    actor = doc.get("actor") or {}
    who = actor.get("agent") or (f"user {actor.get('user_id')}"
                                 f" (project {actor.get('project_id')})")
    return {"position": position, "timestamp": doc.get("timestamp"), "event": doc["event"],
            "aggregate": doc["aggregate"], "key": doc["key"], "version": doc["version"],
            "actor": who, "request_id": doc.get("request_id"), "data": doc.get("data")}


def _summary(data: dict | None, width: int = 60) -> str:
    text = json.dumps(data or {}, separators=(",", ":"))
    return text if len(text) <= width else text[:width - 1] + "…"


def render(rows: list[dict]) -> str:
    """One line per event: position, time, event, what it is about, who, a data digest."""
    lines = [f"{'pos':>7}  {'time':<32} {'event':<26} {'aggregate':<46} {'actor':<30} data"]
    for row in rows:
        about = f"{row['aggregate']} {row['key']}"
        lines.append(f"{row['position']:>7}  {row['timestamp']:<32} {row['event']:<26}"
                     f" {about:<46} {row['actor']:<30} {_summary(row['data'])}")
    return "\n".join(lines)


def audit_actor(database_url: str, kind: str, key: str, *, since: str | None,
                until: str | None, as_json: bool) -> None:
    rows = events_of(database_url, kind, key, since=since, until=until)
    if as_json:
        sys.stdout.write(msgspec.json.encode(rows).decode() + "\n")
        return
    sys.stdout.write((render(rows) if rows else f"no events for {kind} {key}") + "\n")
