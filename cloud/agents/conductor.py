"""The conductor agent: the compute agents' only door to the log."""

import asyncio
import datetime as dt
import logging

from nats.aio.msg import Msg
from psycopg_pool import ConnectionPool

from cloud.adapters import bus
from cloud.adapters.eventstore import EventStore
from cloud.agents import reports
from cloud.agents.runtime import Drop, Runtime
from cloud.domain.service import COMPUTE
from cloud.services import conductor
from cloud.util import utcnow

log = logging.getLogger(__name__)


def _key(msg: Msg) -> str:
    # Reports about one instance are applied in order; others in parallel.
    report = reports.decode(msg.data)
    return getattr(report, "instance_id", report.host)


def handler(store: EventStore, pool: ConnectionPool):
    async def handle(msg: Msg) -> None:
        try:
            report = reports.decode(msg.data)
        except ValueError as error:
            raise Drop(f"undecodable report: {error}") from error
        await asyncio.to_thread(_apply, store, pool, report)
    return handle


def _apply(store: EventStore, pool: ConnectionPool, report: reports.Report) -> None:
    now = utcnow()
    with pool.connection() as conn:
        conductor.record_heartbeat(conn, report.host, COMPUTE, now)
    if not isinstance(report, reports.Heartbeat):
        conductor.apply(store, report, conductor.context_of(report, now))


def runtime(js, store: EventStore, pool: ConnectionPool, *, concurrency: int = 16) -> Runtime:
    return Runtime(js, stream=bus.REPORTS_STREAM, durable=bus.CONDUCTOR_CONSUMER,
                   handler=handler(store, pool), key_of=_key, concurrency=concurrency)


async def sweep_forever(store: EventStore, pool: ConnectionPool, stop: asyncio.Event,
                        every: float = 15.0) -> None:
    """Turn missed deadlines into events, so nothing stays in BUILD forever."""
    while not stop.is_set():
        def once() -> int:
            with pool.connection() as conn:
                return conductor.sweep(store, conn, dt.datetime.now(dt.UTC))
        try:
            if count := await asyncio.to_thread(once):
                log.warning("deadline sweep settled %d instances", count)
        except Exception:
            log.exception("deadline sweep failed")
        try:
            await asyncio.wait_for(stop.wait(), timeout=every)
        except TimeoutError:
            pass
