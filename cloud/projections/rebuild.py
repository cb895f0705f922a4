"""Folding the log into a scratch schema: what ``cloud audit verify`` and ``cloud replay``
build on. Works from ``registry.DDL`` and ``registry.FOLDS`` alone, so every projection
registered there is covered without knowing it by name.

The folds use unqualified table names; pointing ``search_path`` at the scratch schema
(and nothing else, so a missing table fails instead of reaching ``public``) makes them
write there.
"""

import time
from collections.abc import Callable, Iterable

import psycopg
from psycopg import sql

from cloud.adapters.eventstore import EventStore, Recorded
from cloud.projections import registry
from cloud.projections.projector import NAME, fold_stream, read_ahead, use_schema

LIVE = "public"
# Tables the DDL creates that are not folded from the log: the tracking row itself and
# the agents' heartbeats (liveness, not history).
NOT_PROJECTED = frozenset({"projection_tracking", "services"})
Progress = Callable[[int, int], None]
# Events per transaction when folding into a schema no API reads yet (a replay, verify,
# as-of): larger than the live projector's, since fewer waves per event means fewer
# statements and more servers' lives folded in the client (newborn.py), and nobody
# waits for a commit.
REPLAY_BATCH = 20000


def create_schema(conn: psycopg.Connection, schema: str) -> None:
    """A new schema holding every read-model table, empty."""
    with conn.transaction():
        conn.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(schema)))
        use_schema(conn, schema)
        for ddl in registry.DDL:
            if ddl.strip():
                conn.execute(ddl)


def drop_schema(conn: psycopg.Connection, schema: str) -> None:
    conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema)))


def position_in(conn: psycopg.Connection, schema: str) -> int:
    """How far the tables of ``schema`` have folded the log."""
    row = conn.execute(sql.SQL("SELECT position FROM {}.projection_tracking WHERE name = %s")
                       .format(sql.Identifier(schema)), (NAME,)).fetchone()
    return row[0] if row else 0


def fold_batch(conn: psycopg.Connection, schema: str, records: list[Recorded]) -> int:
    """Fold records into ``schema`` (inside the caller's transaction, if any)."""
    return fold_batches(conn, schema, [records])


def fold_batches(conn: psycopg.Connection, schema: str, batches: Iterable[list[Recorded]],
                 *, progress: Callable[[int], None] | None = None, long: bool = False) -> int:
    """Fold batches of records into ``schema`` (see projector.fold_stream)."""
    return fold_stream(conn, batches, schema=schema, progress=progress, long=long)


def fold_into(store: EventStore, conn: psycopg.Connection, schema: str, *,
              until: int | None = None, progress: Progress | None = None) -> int:
    """Fold the log into ``schema`` from its position up to ``until`` (default: the head)."""
    position = position_in(conn, schema)
    target = store.head() if until is None else until
    if position >= target:
        return position
    return fold_batches(
        conn, schema, read_ahead(store, position, until=target, batch=REPLAY_BATCH),
        progress=None if progress is None else lambda reached: progress(reached, target),
        long=target - position > REPLAY_BATCH)


def projected_tables(conn: psycopg.Connection, schema: str) -> list[str]:
    """The read-model tables of a schema built by create_schema (all of registry.DDL's,
    less NOT_PROJECTED). Not for ``public``, which holds the log and secrets too."""
    rows = conn.execute("SELECT tablename FROM pg_tables WHERE schemaname = %s"
                        " ORDER BY tablename", (schema,)).fetchall()
    return [name for (name,) in rows if name not in NOT_PROJECTED]


def read_model_tables(conn: psycopg.Connection) -> list[str]:
    """The names of the read-model tables registry.DDL creates (found by building them
    in a throwaway schema)."""
    schema = scratch_name("ddl")
    create_schema(conn, schema)
    try:
        return projected_tables(conn, schema)
    finally:
        drop_schema(conn, schema)


def primary_key(conn: psycopg.Connection, schema: str, table: str) -> list[str]:
    """The primary-key columns of a table, in key order ([] when it has none)."""
    rows = conn.execute(
        "SELECT a.attname FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid"
        " AND a.attnum = ANY(i.indkey) WHERE i.indrelid = %s::regclass AND i.indisprimary"
        " ORDER BY array_position(i.indkey::int2[], a.attnum)",
        (f'"{schema}"."{table}"',)).fetchall()
    return [name for (name,) in rows]


def scratch_name(prefix: str) -> str:
    """A schema name no one else is using."""
    return f"{prefix}_{time.strftime('%Y%m%d%H%M%S')}_{time.monotonic_ns() % 10**6:06d}"
