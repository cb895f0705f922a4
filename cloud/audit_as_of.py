"""``cloud audit as-of <time|position> [server ID | host NAME | cloud]``: the state at a
past moment, by replaying the log up to it.

A server or host is its own stream folded with the domain's evolve function (only that
stream's events are read, through the log's primary key). The whole cloud is every
projection's fold replayed into a scratch schema up to the position (from the nearest
snapshot before it, see ``audit_snapshots``), summarised, then dropped.
"""

import json
import re
import sys
import uuid

import msgspec
import psycopg

from cloud.adapters.eventstore import EVENTS_TABLE, EventStore
from cloud.domain import envelope as wire
from cloud.domain import host, ids, instance
from cloud import audit_snapshots as snapshots
from cloud.projections import rebuild

_TIMESTAMP = "convert_from(state, 'UTF8')::jsonb->>'timestamp'"


def position_at(conn: psycopg.Connection, when: str) -> int:
    """A log position as given, or the last position recorded at or before an ISO time."""
    if when.isdigit():
        return int(when)
    if not re.match(r"^\d{4}-\d{2}-\d{2}", when):
        raise SystemExit(f"not a log position or an ISO 8601 time: {when!r}")
    row = conn.execute(
        f"SELECT max(notification_id) FROM {EVENTS_TABLE} WHERE {_TIMESTAMP} ~ '^\\d{{4}}-'"
        f" AND ({_TIMESTAMP})::timestamptz <= %s::timestamptz", (when,)).fetchone()
    return row[0] or 0


def _stream(conn: psycopg.Connection, stream: uuid.UUID, position: int) -> list:
    rows = conn.execute(f"SELECT state FROM {EVENTS_TABLE} WHERE originator_id = %s"
                        " AND notification_id <= %s ORDER BY originator_version",
                        (stream, position)).fetchall()
    return [wire.decode(bytes(state)) for (state,) in rows]


def server_at(conn: psycopg.Connection, server_id: str, position: int) -> dict | None:
    """The Instance aggregate's state at a position (None: it did not exist yet)."""
    state = None
    for env in _stream(conn, uuid.UUID(server_id), position):
        state = instance.evolve(state, server_id, env.data)
    return msgspec.to_builtins(state) if state is not None else None


def host_at(conn: psycopg.Connection, name: str, position: int) -> dict | None:
    """The Host aggregate's state (capacity and claims) at a position."""
    envelopes = _stream(conn, ids.host_stream(name), position)
    state = None
    for env in envelopes:
        state = host.evolve(state, name, env.data)
    return msgspec.to_builtins(state) if state is not None else None


def cloud_at(database_url: str, position: int, *,
             keep_after: int = snapshots.KEEP_AFTER_FOLDING) -> dict:
    """Every read model folded up to a position, summarised: servers by status, hosts.

    Starts from the nearest snapshot at or before the position; when it still had to
    fold ``keep_after`` events or more, what it built is kept as a new snapshot.
    """
    schema = rebuild.scratch_name("asof")
    store = EventStore(database_url, pool_size=1)
    try:
        with psycopg.connect(database_url, autocommit=True) as conn:
            rebuild.create_schema(conn, schema)
            try:
                base = snapshots.nearest(conn, position)
                if base is not None:
                    snapshots.start_from(conn, schema, base[1])
                start = rebuild.position_in(conn, schema)
                reached = rebuild.fold_into(store, conn, schema, until=position)
                summary = _summary(conn, schema, position)
                summary["replayed"] = {"from_snapshot": base[0] if base else None,
                                       "events_folded": _count(conn, start, reached)}
                if summary["replayed"]["events_folded"] >= keep_after:
                    snapshots.keep(conn, schema, reached)
                return summary
            finally:
                rebuild.drop_schema(conn, schema)
    finally:
        store.close()


def _count(conn: psycopg.Connection, after: int, until: int) -> int:
    return conn.execute(f"SELECT count(*) FROM {EVENTS_TABLE} WHERE notification_id > %s"
                        " AND notification_id <= %s", (after, until)).fetchone()[0]


def _summary(conn: psycopg.Connection, schema: str, position: int) -> dict:
    statuses = conn.execute(f'SELECT vm_state, count(*) FROM "{schema}".servers'
                            " GROUP BY vm_state ORDER BY vm_state").fetchall()
    hosts = conn.execute(
        f'SELECT name, vcpus_used, vcpus, memory_mb_used, memory_mb, disk_gb_used, disk_gb,'
        f' running_vms FROM "{schema}".hosts ORDER BY name').fetchall()
    keys = ("name", "vcpus_used", "vcpus", "memory_mb_used", "memory_mb", "disk_gb_used",
            "disk_gb", "running_vms")
    return {"position": position, "servers": dict(statuses),
            "hosts": [dict(zip(keys, row)) for row in hosts]}


def render_cloud(summary: dict) -> str:
    lines = [f"the cloud at log position {summary['position']}", "servers:"]
    replayed = summary.get("replayed")
    if replayed:
        origin = (f"snapshot at {replayed['from_snapshot']}"
                  if replayed["from_snapshot"] is not None else "the start of the log")
        lines.insert(1, f"(folded {replayed['events_folded']:,} events from {origin})")
    lines += [f"  {state:<12} {count}" for state, count in summary["servers"].items()]
    lines.append(f"hosts:  {'name':<16} {'vcpus':>9} {'ram MiB':>15} {'disk GiB':>11} vms")
    lines += [f"        {h['name']:<16} {h['vcpus_used']:>4}/{h['vcpus']:<4}"
              f" {h['memory_mb_used']:>7}/{h['memory_mb']:<7} {h['disk_gb_used']:>5}/"
              f"{h['disk_gb']:<5} {h['running_vms']}" for h in summary["hosts"]]
    return "\n".join(lines)


def as_of(database_url: str, when: str, scope: list[str], *, as_json: bool) -> None:
    kind, key = (scope + ["", ""])[:2] if scope else ("cloud", "")
    if kind not in ("server", "host", "cloud") or (kind != "cloud" and not key):
        raise SystemExit("as-of scope: server ID | host NAME | cloud")
    with psycopg.connect(database_url) as conn:
        position = position_at(conn, when)
        if kind == "cloud":
            result = cloud_at(database_url, position)
            text = render_cloud(result)
        else:
            state = (server_at if kind == "server" else host_at)(conn, key, position)
            result = {"position": position, kind: state}
            text = (f"{kind} {key} at log position {position}:\n"
                    + (json.dumps(state, indent=2) if state else "  (did not exist yet)"))
    sys.stdout.write((json.dumps(result, indent=2) if as_json else text) + "\n")
