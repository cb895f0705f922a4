"""Heartbeats of the processes that hold database credentials (scheduler, conductor).

Compute agents report over NATS and the conductor records their beats; these two write
their own row, which is what makes them appear as up in ``os-services``.
"""

import asyncio
import logging

from psycopg_pool import ConnectionPool

from cloud.services import conductor
from cloud.util import utcnow

log = logging.getLogger(__name__)
EVERY = 10.0


def beat(pool: ConnectionPool, *, host: str, binary: str) -> None:
    """Record one heartbeat now."""
    with pool.connection() as conn:
        conductor.record_heartbeat(conn, host, binary, utcnow())
        conn.commit()  # a no-op in autocommit pools; needed otherwise


async def beat_forever(pool: ConnectionPool, stop: asyncio.Event, *, host: str,
                       binary: str, every: float = EVERY) -> None:
    """Beat every ``every`` seconds until stopped; a failed beat is logged, not fatal."""
    while not stop.is_set():
        try:
            await asyncio.to_thread(beat, pool, host=host, binary=binary)
        except Exception:
            log.exception("heartbeat of %s on %s failed", binary, host)
        try:
            await asyncio.wait_for(stop.wait(), timeout=every)
        except TimeoutError:
            pass
