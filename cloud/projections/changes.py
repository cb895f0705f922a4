"""Where in the log the scheduler's inputs last changed, so it re-reads only what moved.

The projector and replays fold each event with its log position in ``folding``. The host
folds stamp a host's row with it (``hosts.changed_at``); the folds of aggregates and of
service states stamp their topic in ``read_model_changes``. Both hold the position of the
event itself, not of its batch, so a replay writes the same numbers as the live
projector did and ``cloud audit verify`` has nothing to report about them.

A reader that knows the tracked position P of an earlier snapshot finds every host changed
since in ``changed_at > P`` (an event after P has a larger position), and whether it must
read the aggregates or the service states again by comparing their topics with P.
"""

from collections.abc import Callable
from contextvars import ContextVar

from psycopg import Cursor

from cloud.domain.envelope import Envelope

# None outside a fold run (a row stamped NULL is read again by the next full refresh).
folding: ContextVar[int | None] = ContextVar("folding", default=None)

AGGREGATES, SERVICE_STATES = "aggregates", "service_states"

DDL = """
ALTER TABLE hosts ADD COLUMN IF NOT EXISTS changed_at bigint;
CREATE TABLE IF NOT EXISTS read_model_changes (
    topic text PRIMARY KEY,
    position bigint NOT NULL
);
"""


def position() -> int | None:
    """The log position of the event being folded."""
    return folding.get()


def marking(topic: str) -> Callable[[Cursor, Envelope], None]:
    """A fold that records that ``topic`` changed at the event being folded."""
    def mark(cur: Cursor, env: Envelope) -> None:
        cur.execute("INSERT INTO read_model_changes VALUES (%s, %s) ON CONFLICT (topic)"
                    " DO UPDATE SET position = EXCLUDED.position", (topic, position() or 0))
    return mark
