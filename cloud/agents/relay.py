"""The relay: publishes the event log to JetStream, in order, exactly once.

Each event goes out with ``Nats-Msg-Id`` = ``<log>:<position>`` (JetStream drops a
repeat within the dedupe window) and ``Nats-Expected-Last-Msg-Id`` = the previous one (a
second relay racing this one is refused rather than interleaved). On start the relay
asks the stream for its last message and resumes after it, so a crash loses nothing and
repeats nothing. Host-routed copies are published first: if the relay dies between the
copy and the event, the resume republishes both and the copy is deduplicated.
"""

import asyncio
import logging

import psycopg
from nats.js import JetStreamContext
from nats.js.errors import APIError

from cloud.adapters import bus
from cloud.adapters.eventstore import EVENTS_TABLE, EventStore, Recorded
from cloud.domain.events import Event

log = logging.getLogger(__name__)
POSITION_HEADER = "Cloud-Position"


def message_id(position: int) -> str:
    return f"{EVENTS_TABLE}:{position}"


async def resume_point(js: JetStreamContext) -> int:
    """The log position of the last event the stream holds (0 if none)."""
    info = await js.stream_info(bus.EVENTS_STREAM)
    if info.state.messages == 0:
        return 0
    last = await js.get_msg(bus.EVENTS_STREAM, seq=info.state.last_seq)
    return int((last.headers or {}).get(POSITION_HEADER, 0))


async def publish(js: JetStreamContext, record: Recorded, previous: int) -> None:
    """Publish one event (and its host copy) with dedupe and order headers."""
    env = record.envelope
    headers = {"Nats-Msg-Id": message_id(record.position),
               POSITION_HEADER: str(record.position)}
    for host, copy_id in host_copies(env.data, headers["Nats-Msg-Id"]):
        await js.publish(bus.host_subject(host, env.aggregate, env.key, env.event),
                         record.payload, stream=bus.HOSTS_STREAM,
                         headers={**headers, "Nats-Msg-Id": copy_id})
    if previous:
        headers["Nats-Expected-Last-Msg-Id"] = message_id(previous)
    await js.publish(bus.event_subject(env.aggregate, env.key, env.event), record.payload,
                     stream=bus.EVENTS_STREAM, headers=headers)


def host_copies(event: Event, msg_id: str) -> list[tuple[str, str]]:
    """The hosts a routed event is copied to, each with the copy's message id: its
    ``host``, or every one of its ``hosts`` (whose copies need ids of their own, since
    JetStream would take the second for a repeat of the first)."""
    if not event.routed:
        return []
    host = getattr(event, "host", None)
    if host:
        return [(host, msg_id)]
    return [(each, f"{msg_id}:{each}") for each in getattr(event, "hosts", [])]


class Relay:
    """Tails the log and publishes it; wakes on the event store's NOTIFY."""

    def __init__(self, store: EventStore, js: JetStreamContext, url: str) -> None:
        self.store, self.js, self.url = store, js, url
        self.stopping = asyncio.Event()
        self.published = 0

    async def run(self) -> None:
        async with await psycopg.AsyncConnection.connect(self.url, autocommit=True) as listen:
            await listen.execute(f"LISTEN {EVENTS_TABLE}")
            position = await resume_point(self.js)
            log.info("relay resuming after log position %s", position)
            while not self.stopping.is_set():
                position = await self._drain(position)
                async for _ in listen.notifies(timeout=1.0, stop_after=1):
                    pass

    async def _drain(self, position: int) -> int:
        while not self.stopping.is_set():
            records = await asyncio.to_thread(self.store.read, position, 500)
            if not records:
                return position
            for record in records:
                try:
                    await publish(self.js, record, position)
                except APIError as error:
                    # Another relay published past us: start again from the stream's end.
                    log.warning("relay out of step (%s); resyncing", error)
                    return await resume_point(self.js)
                position = record.position
                self.published += 1
        return position

    def stop(self) -> None:
        self.stopping.set()
