"""The event log: the ``eventsourcing`` library's PostgreSQL recorder, holding our envelopes.

Each stored event's topic is its stable event name and its state is the envelope JSON,
byte for byte what the relay publishes on NATS.
"""

import uuid
from collections.abc import Sequence
from typing import Any
from urllib.parse import parse_qs, urlparse

import msgspec
from eventsourcing.persistence import IntegrityError, InterfaceError, OperationalError
from eventsourcing.persistence import StoredEvent
from eventsourcing.postgres import PostgresApplicationRecorder, PostgresDatastore
from eventsourcing.utils import retry
from psycopg import sql
from psycopg.rows import tuple_row

from cloud.domain import envelope as wire
from cloud.domain.envelope import Context, Envelope
from cloud.domain.errors import Conflict
from cloud.domain.events import Event, event_name

EVENTS_TABLE = "cloud_events"


class Recorded(msgspec.Struct, frozen=True, gc=False):
    """An event as read back from the log, with its position in the whole log."""

    position: int
    envelope: Envelope
    payload: bytes


class Batch(msgspec.Struct, frozen=True):
    """New events for one stream, expected to follow ``expected_version``."""

    stream_id: uuid.UUID
    key: str
    expected_version: int
    events: Sequence[Event]


def datastore_from_url(url: str, *, pool_size: int = 4) -> PostgresDatastore:
    """A datastore for a ``postgresql://user@host:port/db`` URL (``?host=`` for sockets)."""
    parts = urlparse(url)
    host = parse_qs(parts.query).get("host", [parts.hostname or "127.0.0.1"])[0]
    return PostgresDatastore(
        dbname=parts.path.lstrip("/") or "postgres", host=host, port=parts.port or 5432,
        user=parts.username or "postgres", password=parts.password or "",
        pool_size=pool_size, max_overflow=pool_size, lock_timeout=10,
    )


class EventStore:
    """Append with optimistic concurrency; read streams and the ordered log."""

    def __init__(self, url: str, *, pool_size: int = 4) -> None:
        self.datastore = datastore_from_url(url, pool_size=pool_size)
        self.recorder = PostgresApplicationRecorder(self.datastore,
                                                    events_table_name=EVENTS_TABLE)
        self._read_sql = sql.SQL(
            "SELECT notification_id, state FROM {}.{} WHERE notification_id > %s"
            " ORDER BY notification_id LIMIT %s").format(
                sql.Identifier(self.datastore.schema), sql.Identifier(EVENTS_TABLE))
        # Folded aggregate states by stream, kept by callers that re-read hot streams.
        self.folded: dict[uuid.UUID, tuple[Any, int]] = {}

    def create_tables(self) -> None:
        """Create the event table (idempotent)."""
        self.recorder.create_table()

    def close(self) -> None:
        self.datastore.close()

    def load(self, stream_id: uuid.UUID, *, after_version: int = 0) -> list[Envelope]:
        """The events of one stream past a version, oldest first."""
        stored = self.recorder.select_events(stream_id, gt=after_version or None)
        return [wire.decode(event.state) for event in stored]

    def append(self, *batches: Batch, context: Context) -> list[int]:
        """Save every batch in one transaction; returns the new log positions.

        Raises Conflict if any stream moved past its expected version.
        """
        stored = [stored for batch in batches for stored in _stored(batch, context)]
        if not stored:
            return []
        try:
            return list(self.recorder.insert_events(stored) or [])
        except IntegrityError as error:
            raise Conflict(str(error)) from error

    @retry((InterfaceError, OperationalError), max_attempts=10, wait=0.2)
    def read(self, after: int, limit: int = 500) -> list[Recorded]:
        """Events after a log position, in log order.

        The recorder's own ``select_notifications`` reads every column into a dict and
        a Notification (the stream id as a UUID too): a third of a replay's reading, for
        columns a replay never looks at. This reads the two it needs, as tuples, in
        binary (the state as bytes, not hex).
        """
        with self.datastore.get_connection() as conn, \
                conn.cursor(row_factory=tuple_row, binary=True) as cur:
            cur.execute(self._read_sql, (after, limit), prepare=True)
            rows = cur.fetchall()
        return [Recorded(position, wire.decode(state), state) for position, state in rows]

    def head(self) -> int:
        """The last position in the log (0 when empty)."""
        return self.recorder.max_notification_id() or 0


def _stored(batch: Batch, context: Context) -> list[StoredEvent]:
    stored = []
    for offset, event in enumerate(batch.events, start=1):
        version = batch.expected_version + offset
        envelope = Envelope(
            event=event_name(event), aggregate=event.aggregate, id=str(batch.stream_id),
            key=batch.key, version=version, timestamp=context.timestamp,
            request_id=context.request_id, actor=context.actor, data=event)
        stored.append(StoredEvent(originator_id=batch.stream_id, originator_version=version,
                                  topic=envelope.event, state=wire.encode(envelope)))
    return stored
