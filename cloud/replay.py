"""``cloud replay``: rebuild read models from the log into fresh tables, then swap them in
while the API keeps serving.

The fresh tables are built in a new schema (the folds use unqualified names, so
``search_path`` sends them there). The swap is one transaction holding the projector's
fold lock: it brings the live tables and the fresh ones to the same log position, moves
each live table out to a retired schema and the fresh one into ``public``, and commits;
the retired schema is dropped after.
The API's queries name tables without a schema, so after the commit they read the new
tables; a query running meanwhile waits a moment on the table lock, nothing fails. The
tracking position is the same for both sets at the swap, so the projector carries on.
"""

import sys
import time
from typing import TextIO

import psycopg
from psycopg import sql

from cloud.adapters.eventstore import EventStore
from cloud.projections import rebuild
from cloud.projections.projector import FOLD_LOCK

SWAP_ATTEMPTS = 50
DROP_ATTEMPTS = 10


class Meter:
    """A progress line on stderr: events folded, events/s, ETA."""

    def __init__(self, out: TextIO, start_position: int = 0) -> None:
        self.out, self.start, self.first = out, time.monotonic(), start_position
        self.shown = 0.0

    def __call__(self, position: int, target: int) -> None:
        now = time.monotonic()
        if now - self.shown < 0.2 and position < target:
            return
        self.shown = now
        done = position - self.first
        rate = done / max(now - self.start, 1e-6)
        eta = (target - position) / rate if rate else 0.0
        self.out.write(f"\rreplayed {done:,}/{target - self.first:,} events"
                       f"  {rate:,.0f} events/s  ETA {_clock(eta)}  ")
        self.out.flush()

    def finish(self) -> float:
        self.out.write("\n")
        return time.monotonic() - self.start


def _clock(seconds: float) -> str:
    minutes, secs = divmod(int(seconds), 60)
    return f"{minutes // 60}:{minutes % 60:02d}:{secs:02d}"


def chosen_tables(conn: psycopg.Connection, schema: str, names: list[str] | None) -> list[str]:
    """The tables to swap: the named ones (which must be read-model tables) or all."""
    known = rebuild.projected_tables(conn, schema)
    unknown = sorted(set(names or []) - set(known))
    if unknown:
        raise SystemExit(f"unknown projection(s) {', '.join(unknown)}; known: "
                         + ", ".join(known))
    return names or known


def swap(store: EventStore, conn: psycopg.Connection, fresh: str, tables: list[str],
         *, out: TextIO = sys.stderr) -> int:
    """Bring both sets of tables to one position and move the fresh ones into place.

    Locking every table is one statement with a time budget well below the server's
    deadlock_timeout, and the whole swap is tried again when it runs out. A reader that
    waits on a table the swap holds started waiting after the swap's LOCK began, so the
    swap gives up before that reader's deadlock check could run: the swap, never an API
    query, is what gives way when a reader holds one table and waits for another.

    Once the swap has committed it is never tried again, whatever dropping the retired
    tables meets (see drop_retired).
    """
    for attempt in range(SWAP_ATTEMPTS):
        try:
            target, retired = _swap_once(store, conn, fresh, tables)
            break
        except (psycopg.errors.LockNotAvailable, psycopg.errors.QueryCanceled,
                psycopg.errors.DeadlockDetected):
            time.sleep(0.05 * (attempt + 1))
    else:
        raise SystemExit(f"could not lock the read-model tables in {SWAP_ATTEMPTS} attempts")
    if not drop_retired(conn, retired):
        out.write(f"the old tables are left in schema {retired}: readers kept them busy;"
                  f" drop it later with DROP SCHEMA {retired} CASCADE\n")
    return target


def _swap_once(store: EventStore, conn: psycopg.Connection, fresh: str,
               tables: list[str]) -> tuple[int, str]:
    retired = rebuild.scratch_name("retired")
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (FOLD_LOCK,))
        target = max(rebuild.position_in(conn, rebuild.LIVE),
                     rebuild.position_in(conn, fresh))
        rebuild.fold_into(store, conn, rebuild.LIVE, until=target)
        rebuild.fold_into(store, conn, fresh, until=target)
        live = [t for t in tables if _exists(conn, rebuild.LIVE, t)]
        if live:
            budget = lock_budget_ms(conn)
            conn.execute(sql.SQL("SET LOCAL statement_timeout = {}").format(
                sql.Literal(budget)))
            conn.execute(sql.SQL("LOCK TABLE {} IN ACCESS EXCLUSIVE MODE").format(
                sql.SQL(", ").join(sql.Identifier(rebuild.LIVE, t) for t in live)))
            conn.execute("SET LOCAL statement_timeout = 0")
        conn.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(retired)))
        for table in tables:
            _move(conn, table, fresh=fresh, retired=retired, live=table in live)
    return target, retired


def drop_retired(conn: psycopg.Connection, retired: str, *,
                 attempts: int = DROP_ATTEMPTS) -> bool:
    """Drop the schema the swap moved the old tables into; False if it could not.

    A prepared query that was waiting on an old table when the swap committed holds it
    once the swap commits, then locks the other old tables its plan names before it
    finds the plan stale; so it can deadlock with the drop, which must lock them all.
    So, like the swap's LOCK, the drop waits for each lock less than a deadlock check
    would, and gives way: it is tried a few times, then left.
    """
    budget = lock_budget_ms(conn)
    for attempt in range(attempts):
        try:
            with conn.transaction():
                conn.execute(sql.SQL("SET LOCAL lock_timeout = {}").format(
                    sql.Literal(budget)))
                rebuild.drop_schema(conn, retired)
            return True
        except (psycopg.errors.LockNotAvailable, psycopg.errors.DeadlockDetected):
            time.sleep(0.05 * (attempt + 1))
    return False


def lock_budget_ms(conn: psycopg.Connection) -> int:
    """How long the swap may spend locking the live tables: a third of the server's
    deadlock_timeout, and never more than 300 ms (readers wait that long at most)."""
    deadlock_ms = conn.execute("SELECT setting::int FROM pg_settings"
                               " WHERE name = 'deadlock_timeout'").fetchone()[0]
    return max(10, min(300, deadlock_ms // 3))


def _exists(conn: psycopg.Connection, schema: str, table: str) -> bool:
    return conn.execute("SELECT to_regclass(%s)", (f'"{schema}"."{table}"',)).fetchone()[0] \
        is not None


def _move(conn: psycopg.Connection, table: str, *, fresh: str, retired: str,
          live: bool) -> None:
    if live:
        conn.execute(sql.SQL("ALTER TABLE {} SET SCHEMA {}").format(
            sql.Identifier(rebuild.LIVE, table), sql.Identifier(retired)))
    conn.execute(sql.SQL("ALTER TABLE {} SET SCHEMA {}").format(
        sql.Identifier(fresh, table), sql.Identifier(rebuild.LIVE)))


def replay(database_url: str, *, tables: list[str] | None = None,
           out: TextIO = sys.stderr) -> int:
    """Rebuild the read models (or the named tables) and swap them in; returns the
    position they are at."""
    store = EventStore(database_url, pool_size=1)
    fresh = rebuild.scratch_name("replay")
    try:
        with psycopg.connect(database_url, autocommit=True) as conn:
            rebuild.create_schema(conn, fresh)
            try:
                chosen = chosen_tables(conn, fresh, tables)
                meter = Meter(out)
                rebuild.fold_into(store, conn, fresh, progress=meter)
                seconds = meter.finish()
                position = swap(store, conn, fresh, chosen, out=out)
            finally:
                rebuild.drop_schema(conn, fresh)
    finally:
        store.close()
    out.write(f"rebuilt {', '.join(chosen)} up to position {position} in {seconds:.1f} s;"
              " swapped in\n")
    return position
