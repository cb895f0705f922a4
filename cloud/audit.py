"""``cloud audit server``: the whole history of one server, straight from the log."""

import json
import sys
import uuid

import msgspec
import psycopg

from cloud.adapters.eventstore import EventStore
from cloud.domain import instance as instance_domain
from cloud.domain.envelope import Envelope

_STATE_FIELDS = ("vm_state", "task_state", "power_state", "host")


def resolve_server(database_url: str, key: str) -> str:
    """A server id from an id or a name (deleted servers included; names may repeat)."""
    try:
        return str(uuid.UUID(key))
    except ValueError:
        pass
    with psycopg.connect(database_url) as conn:
        rows = conn.execute("SELECT id::text FROM servers WHERE name = %s"
                            " ORDER BY created_at DESC", (key,)).fetchall()
    if not rows:
        raise SystemExit(f"no server named {key!r}")
    if len(rows) > 1:
        raise SystemExit(f"{len(rows)} servers are named {key!r}; use an id: "
                         + ", ".join(r[0] for r in rows))
    return rows[0][0]


def history(store: EventStore, server_id: str) -> list[dict]:
    """Each event with who caused it and how it changed the server's state."""
    rows, state = [], None
    for env in store.load(uuid.UUID(server_id)):
        before = _snapshot(state)
        state = instance_domain.evolve(state, server_id, env.data)
        after = _snapshot(state)
        changes = {k: [before.get(k), after[k]] for k in _STATE_FIELDS
                   if after and before.get(k) != after[k]}
        rows.append({"version": env.version, "timestamp": env.timestamp, "event": env.event,
                     "actor": _actor(env), "request_id": env.request_id,
                     "changes": changes, "data": msgspec.to_builtins(env.data)})
    return rows


def _snapshot(state) -> dict:
    return {k: getattr(state, k) for k in _STATE_FIELDS} if state else {}


def _actor(env: Envelope) -> str:
    actor = env.actor
    if actor.agent:
        return actor.agent
    return f"user {actor.user_id} (project {actor.project_id})"


def render(rows: list[dict]) -> str:
    """A readable table: one line per event, state changes as old → new."""
    lines = [f"{'v':>3}  {'time':<32} {'event':<24} {'actor':<36} changes"]
    for row in rows:
        changes = ", ".join(f"{k}: {old} → {new}" for k, (old, new) in row["changes"].items())
        lines.append(f"{row['version']:>3}  {row['timestamp']:<32} {row['event']:<24}"
                     f" {row['actor']:<36} {changes}")
        if row["request_id"]:
            lines.append(f"{'':>5} request {row['request_id']}")
    return "\n".join(lines)


def audit_server(database_url: str, key: str, *, as_json: bool) -> None:
    server_id = resolve_server(database_url, key)
    store = EventStore(database_url, pool_size=1)
    rows = history(store, server_id)
    store.close()
    if not rows:
        raise SystemExit(f"no events for server {server_id}")
    sys.stdout.write(json.dumps(rows, indent=2) if as_json else render(rows))
    sys.stdout.write("\n")
