"""Folds the log into the read-model tables, exactly once per event.

The tracking position is written in the same transaction as the rows it accounts for,
so a crash at any moment neither skips nor repeats an event; and only one fold writes
the read models at a time (``FOLD_LOCK``).
"""

import contextlib
import gc
import logging
import threading
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor

import psycopg
from psycopg import sql
from psycopg.pq import TransactionStatus

from cloud.adapters.eventstore import EVENTS_TABLE, EventStore, Recorded
from cloud.projections import changes, host_usage, newborn, setwise
from cloud.projections.registry import FOLDS, NEWBORN, SETWISE
from cloud.projections.setwise import Folded, SetFold

log = logging.getLogger(__name__)
NAME = "read_models"
# Events per transaction at most (live, a batch holds what is new). Catching up, the
# longer the batch the more of each server's life falls in one and is written once
# (newborn.py), the more claims come and go within one (host_usage.Passing), and the
# fewer statements per event: so a projector further behind than one such batch (just
# started on a long log, or back after an outage) folds batches as long as a replay's.
BATCH = 5000
BEHIND_BATCH = 20000
# Held by the projector while it catches up (a session lock, see catch_up) and by
# ``cloud replay`` while it swaps tables, so the projector never folds into a table that
# is being moved, and two projectors never fold at once.
FOLD_LOCK = 0x636C6F7564  # "cloud"


def tracked_position(conn: psycopg.Connection, name: str = NAME) -> int:
    """How far a projection has folded the log."""
    row = conn.execute("SELECT position FROM projection_tracking WHERE name = %s",
                       (name,)).fetchone()
    return row[0] if row else 0


def fold_records(cur: psycopg.Cursor, records: list[Recorded],
                 seen: set[str] | None = None, claimed: set[str] | None = None) -> None:
    """Fold records as folding them in order one by one would: in runs of events with
    set-wise folds, each cut into waves of events that commute, each wave with one
    statement per set-wise fold (see setwise.py), the servers requested in the run
    folded in the client and written after it (newborn.py); an event with no set-wise
    fold on its own, with its position at hand (changes.folding).

    ``seen``: the servers that may have rows, kept by a caller that alone folds into
    these tables (newborn.remembered); without it they are read from the database,
    which waits for every statement sent before. ``claimed``: likewise, the instances
    that may have claims (host_usage.Passing); without it every claim is folded."""
    token = changes.folding.set(None)
    known = newborn.known(cur, records) if seen is None else newborn.remembered(records, seen)
    cur.execute(setwise.KEYED_PLANS)
    try:
        for run, alone in setwise.segments(records, SETWISE.__contains__,
                                           FOLDS.__contains__):
            newborns = newborn.Newborns(run, SETWISE, NEWBORN, known)
            passing = host_usage.Passing(run, claimed)
            fold_of = passing.fold_of(newborns.fold_of)
            touching = host_usage.touching_only.set(passing.releases)
            try:
                for wave in setwise.planned_waves(run, fold_of):
                    _fold_wave(cur, wave)
            finally:
                host_usage.touching_only.reset(touching)
            newborns.write(cur)
            if alone is not None:
                changes.folding.set(alone.position)
                FOLDS[alone.envelope.event](cur, alone.envelope)
    finally:
        changes.folding.reset(token)
    cur.execute(setwise.PLANS_RESTORED)


def use_schema(conn: psycopg.Connection, schema: str) -> None:
    """Point unqualified names at ``schema`` until the transaction ends."""
    conn.execute("SELECT set_config('search_path', %s, true)", (schema,))


def fold_stream(conn: psycopg.Connection, batches: Iterable[list[Recorded]], *,
                schema: str | None = None,
                progress: Callable[[int], None] | None = None, long: bool = False) -> int:
    """Fold batches of records into the read models (into ``schema``'s if given), which
    nothing else writes into meanwhile; returns the position reached (0: no batch).

    On a connection in autocommit mode and outside any transaction, each batch is a
    transaction of its own, committed with its position; otherwise every batch is part
    of the caller's transaction. Either way nothing waits for the server between
    batches: the statements of the whole fold go out in one pipeline, and the client
    works out a batch while the server is still writing the one before it (from the
    second batch on, the servers that have rows and the instances that have claims are
    remembered, not read: see newborn.remembered and host_usage.Passing). If a batch
    fails, the ones before it stay committed and its own transaction is rolled back.

    ``long``: the caller knows the fold runs to several batches, so what is remembered
    is read before the first (with nothing sent yet, the read waits for no statement);
    otherwise at the second batch, which waits for the whole first one.
    """
    own = conn.autocommit and conn.info.transaction_status == TransactionStatus.IDLE
    position = 0
    seen: set[str] | None = None
    claimed: set[str] | None = None
    try:
        with _collector_paused(), conn.pipeline(), conn.cursor() as cur:
            # A long fold: every server with a row and instance with a claim now, read
            # once, then remembered. A fold of one batch (the live projector's, mostly)
            # asks only about the servers it requests, and folds every claim.
            if long:
                seen, claimed = _remembered(cur, schema)
            for index, records in enumerate(batches):
                if index == 1 and seen is None:
                    seen, claimed = _remembered(cur, schema)
                if own:
                    cur.execute("BEGIN")
                if schema is not None:
                    use_schema(conn, schema)
                fold_records(cur, records, seen, claimed)
                position = records[-1].position
                cur.execute(_TRACKED, (NAME, position))
                if own:
                    cur.execute("COMMIT")
                if progress is not None:
                    progress(position)
    finally:
        if own and conn.info.transaction_status != TransactionStatus.IDLE:
            conn.rollback()
    return position


def _remembered(cur: psycopg.Cursor, schema: str | None) -> tuple[set[str], set[str]]:
    """The servers with rows and the instances with claims, now (see fold_stream)."""
    def table(name: str) -> sql.Composable:
        return sql.Identifier(name) if schema is None else sql.Identifier(schema, name)
    servers = {server for (server,) in cur.execute(
        sql.SQL("SELECT id::text FROM {}").format(table("servers")))}
    claimed = {instance for (instance,) in cur.execute(
        sql.SQL("SELECT DISTINCT instance_id::text FROM {}").format(table("host_claims")))}
    return servers, claimed


class _Collector:
    """Keeps the cyclic garbage collector off while any fold runs (in any thread).

    A fold makes and drops containers by the million, which reference counting frees:
    next to none is in a cycle (25 objects after a 100k fold). Yet every so many the
    collector walks all the objects alive, and its passes took about a sixth of a
    replay's time in the client (docs/benchmarks.md, session 9). It is switched back
    on when the last fold ends, if it was on when the first began."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._running = 0
        self._restore = False

    @contextlib.contextmanager
    def paused(self) -> Iterator[None]:
        with self._lock:
            if self._running == 0:
                self._restore = gc.isenabled()
                gc.disable()
            self._running += 1
        try:
            yield
        finally:
            with self._lock:
                self._running -= 1
                if self._running == 0 and self._restore:
                    gc.enable()


_collector_paused = _Collector().paused
_TRACKED = ("INSERT INTO projection_tracking VALUES (%s, %s) ON CONFLICT (name)"
            " DO UPDATE SET position = EXCLUDED.position")


def _fold_wave(cur: psycopg.Cursor, wave: list[tuple[Recorded, SetFold]]) -> None:
    together: dict[int, tuple[SetFold, list[Folded]]] = {}
    for record, fold in wave:
        together.setdefault(id(fold), (fold, []))[1].append(
            Folded(record.position, record.envelope))
    for fold, events in together.values():
        fold.run(cur, events)


def read_ahead(store: EventStore, after: int, *, until: int | None = None,
               batch: int = BATCH) -> Iterator[list[Recorded]]:
    """The log after a position (up to ``until``), in batches, each read and decoded on
    a thread of its own while the caller folds the one before."""
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="log-reader") as reader:
        pending = reader.submit(store.read, after, batch)
        while records := pending.result():
            if until is not None:
                records = [record for record in records if record.position <= until]
                if not records:
                    return
            pending = reader.submit(store.read, records[-1].position, batch)
            yield records


def catch_up(store: EventStore, conn: psycopg.Connection, *, batch: int | None = None) -> int:
    """Fold everything in the log now; returns the position reached.

    ``conn`` must be in autocommit mode, so that each batch commits on its own. The
    fold lock is held for the whole of it (a session lock, not each batch's), so no
    other projector nor a ``cloud replay`` swap writes the read models meanwhile and
    the batches can go out without waiting for each other (fold_stream). ``batch``:
    events per batch; by default BATCH, or BEHIND_BATCH if the log is further ahead.
    """
    conn.execute("SELECT pg_advisory_lock(%s)", (FOLD_LOCK,))
    try:
        position = tracked_position(conn)
        behind = store.head() - position
        if batch is None:
            batch = BEHIND_BATCH if behind > BATCH else BATCH
        return max(position, fold_stream(conn, read_ahead(store, position, batch=batch),
                                         long=behind > batch))
    finally:
        if not conn.closed:
            conn.execute("SELECT pg_advisory_unlock(%s)", (FOLD_LOCK,))


def run(url: str, stop: threading.Event, *, idle_wait: float = 1.0) -> None:
    """Tail the log until ``stop`` is set, waking on the event store's NOTIFY."""
    store = EventStore(url, pool_size=1)
    with psycopg.connect(url, autocommit=True) as conn, \
            psycopg.connect(url, autocommit=True) as listener:
        listener.execute(f"LISTEN {EVENTS_TABLE}")
        while not stop.is_set():
            position = catch_up(store, conn)
            log.debug("projected up to %s", position)
            for _ in listener.notifies(timeout=idle_wait, stop_after=1):
                pass
    store.close()


@contextlib.contextmanager
def in_background(url: str) -> Iterator[None]:
    """Run the projector in a thread for the duration of a block (tests, benchmarks)."""
    stop = threading.Event()
    folding = threading.Thread(target=run, args=(url, stop), daemon=True)
    folding.start()
    try:
        yield
    finally:
        stop.set()
        folding.join(timeout=10)
