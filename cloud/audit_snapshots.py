"""Snapshots of every read model at a log position, so ``cloud audit as-of … cloud``
replays only the events after the nearest snapshot instead of the whole log.

A snapshot is a schema ``asof_snapshot_<position>`` holding every read-model table as
folded up to that position, plus a ``snapshot_info`` row naming the code that folded it
(a fingerprint of the projection modules): a snapshot folded by other code is never
used, since its rows might not be what today's folds would give.

``cloud audit snapshot`` takes one at the head of the log (cron it for long histories);
``as-of`` keeps the state it built as a new snapshot when it had to fold many events,
so asking about the same era again is fast. At most ``KEEP`` are kept, the oldest
dropped first.
"""

import functools
import hashlib
from pathlib import Path

import psycopg
from psycopg import sql

from cloud.adapters.eventstore import EventStore
from cloud.projections import rebuild

PREFIX = "asof_snapshot_"
KEEP = 8
# as-of keeps its work as a snapshot when it folded at least this many events.
KEEP_AFTER_FOLDING = 50_000
_PROJECTIONS = Path(rebuild.__file__).parent


@functools.cache
def fingerprint() -> str:
    """Which fold code made a snapshot: a hash of every projection module."""
    digest = hashlib.sha256()
    for module in sorted(_PROJECTIONS.glob("*.py")):
        digest.update(module.name.encode() + b"\0" + module.read_bytes())
    return digest.hexdigest()[:16]


def name_at(position: int) -> str:
    return f"{PREFIX}{position:015d}"


def _schemas(conn: psycopg.Connection) -> list[str]:
    """Every snapshot schema, whoever made it, oldest first."""
    return [name for (name,) in conn.execute(
        "SELECT nspname FROM pg_namespace WHERE nspname LIKE %s ORDER BY nspname",
        (PREFIX + "%",)).fetchall()]


def listed(conn: psycopg.Connection) -> list[tuple[int, str]]:
    """Usable snapshots (made by this code), as (position, schema), oldest first."""
    mine = fingerprint()
    found = []
    for schema in _schemas(conn):
        row = conn.execute(sql.SQL("SELECT fingerprint, position FROM {}.snapshot_info")
                           .format(sql.Identifier(schema))).fetchone()
        if row is not None and row[0] == mine:
            found.append((row[1], schema))
    return sorted(found)


def nearest(conn: psycopg.Connection, position: int) -> tuple[int, str] | None:
    """The latest usable snapshot at or before a position."""
    before = [(at, schema) for at, schema in listed(conn) if at <= position]
    return before[-1] if before else None


def start_from(conn: psycopg.Connection, scratch: str, snapshot: str) -> None:
    """Fill a fresh scratch schema (made by ``rebuild.create_schema``) with a snapshot's
    rows, tracking position included."""
    with conn.transaction():
        for table in [*rebuild.projected_tables(conn, scratch), "projection_tracking"]:
            conn.execute(sql.SQL("INSERT INTO {} SELECT * FROM {}").format(
                sql.Identifier(scratch, table), sql.Identifier(snapshot, table)))


def keep(conn: psycopg.Connection, scratch: str, position: int) -> str | None:
    """Turn a scratch schema folded up to ``position`` into a snapshot (unless one is
    there already); prune to ``KEEP``. Returns the snapshot's name, or None."""
    name = name_at(position)
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", (PREFIX,))
        exists = conn.execute("SELECT 1 FROM pg_namespace WHERE nspname = %s",
                              (name,)).fetchone()
        if exists:
            return None
        conn.execute(sql.SQL("CREATE TABLE {} (fingerprint text NOT NULL,"
                             " position bigint NOT NULL, taken_at timestamptz NOT NULL"
                             " DEFAULT now())").format(
                                 sql.Identifier(scratch, "snapshot_info")))
        conn.execute(sql.SQL("INSERT INTO {} (fingerprint, position) VALUES (%s, %s)")
                     .format(sql.Identifier(scratch, "snapshot_info")),
                     (fingerprint(), position))
        conn.execute(sql.SQL("ALTER SCHEMA {} RENAME TO {}").format(
            sql.Identifier(scratch), sql.Identifier(name)))
    prune(conn)
    return name


def prune(conn: psycopg.Connection, keep_count: int = KEEP) -> list[str]:
    """Drop snapshots beyond the newest ``keep_count``, and any made by other code."""
    usable = [schema for _, schema in listed(conn)]
    newest = set(usable[-keep_count:]) if keep_count else set()
    dropped = [schema for schema in _schemas(conn) if schema not in newest]
    for schema in dropped:
        rebuild.drop_schema(conn, schema)
    return dropped


def take(database_url: str, position: int | None = None) -> tuple[int, str | None]:
    """A snapshot at ``position`` (default: the head of the log), built from the nearest
    earlier one. Returns (position, snapshot name or None if one was there)."""
    store = EventStore(database_url, pool_size=1)
    scratch = rebuild.scratch_name("snapshot")
    try:
        with psycopg.connect(database_url, autocommit=True) as conn:
            target = store.head() if position is None else position
            rebuild.create_schema(conn, scratch)
            try:
                base = nearest(conn, target)
                if base is not None:
                    start_from(conn, scratch, base[1])
                reached = rebuild.fold_into(store, conn, scratch, until=target)
                return reached, keep(conn, scratch, reached)
            finally:
                rebuild.drop_schema(conn, scratch)
    finally:
        store.close()
