"""Is the log whole, and does JetStream hold exactly the log?

The log: every aggregate's versions run 1, 2, 3… in log order with no gap or repeat,
positions only grow, every event decodes (its topic a known event, or one an upcaster
can bring up to date) and its envelope agrees with the row it is stored in.
JetStream: ``CLOUD_EVENTS`` holds each event once, in log order, byte for byte
(sha256 of the payload), compared by position (``Cloud-Position`` header).
"""

import asyncio
import hashlib
import time
import uuid

import msgspec
import nats.errors
import psycopg

from cloud.adapters import bus
from cloud.adapters.eventstore import EVENTS_TABLE
from cloud.agents.relay import POSITION_HEADER
from cloud.domain import envelope as wire
from cloud.domain import upcasters

SHOWN = 50


class _Head(msgspec.Struct):
    event: str
    id: str
    version: int
    schema: int = 1


_head = msgspec.json.Decoder(_Head)


def check_log(database_url: str) -> tuple[int, list[str]]:
    """Walk the whole log in order; returns (events seen, problems)."""
    problems: list[str] = []
    versions: dict[uuid.UUID, int] = {}
    last, count = 0, 0
    with psycopg.connect(database_url) as conn, conn.cursor(name="audit_log") as cur:
        cur.itersize = 5000
        cur.execute(f"SELECT notification_id, originator_id, originator_version, topic,"
                    f" state FROM {EVENTS_TABLE} ORDER BY notification_id")
        for position, stream, version, topic, state in cur:
            count += 1
            if position <= last:
                problems.append(f"position {position}: not after position {last}")
            expected = versions.get(stream, 0) + 1
            if version != expected:
                problems.append(f"position {position}: aggregate {stream} at version"
                                f" {version}, expected {expected}")
            versions[stream], last = version, position
            problems += _check_event(position, stream, version, topic, bytes(state))
    return count, problems


def _check_event(position: int, stream: uuid.UUID, version: int, topic: str,
                 state: bytes) -> list[str]:
    try:
        head = _head.decode(state)
    except msgspec.DecodeError as error:
        return [f"position {position}: not an envelope ({error})"]
    if not upcasters.readable(topic, head.schema):
        return [f"position {position}: unknown event {topic!r} (schema {head.schema})"]
    problems = []
    if (head.event, head.id, head.version) != (topic, str(stream), version):
        problems.append(f"position {position}: envelope says {head.event} {head.id}"
                        f" v{head.version}, row says {topic} {stream} v{version}")
    try:
        wire.decode(state)
    except (msgspec.DecodeError, msgspec.ValidationError, KeyError) as error:
        problems.append(f"position {position}: {topic} does not decode ({error})")
    return problems


def logged_digests(database_url: str) -> dict[int, bytes]:
    """sha256 of every stored payload, by position."""
    with psycopg.connect(database_url) as conn:
        rows = conn.execute(f"SELECT notification_id, sha256(state) FROM {EVENTS_TABLE}"
                            " ORDER BY notification_id").fetchall()
    return {position: bytes(digest) for position, digest in rows}


async def published_digests(nc, *, expect: int, wait: float) -> list[tuple[int, int, bytes]]:
    """(stream sequence, position, sha256) of every message in CLOUD_EVENTS, in stream
    order; waits up to ``wait`` seconds for the relay to publish ``expect`` messages."""
    js = nc.jetstream()
    deadline = time.monotonic() + wait
    while (info := await js.stream_info(bus.EVENTS_STREAM)).state.messages < expect:
        if time.monotonic() > deadline:
            break
        await asyncio.sleep(0.2)
    if info.state.messages == 0:
        return []
    sub = await js.subscribe("cloud.events.>", ordered_consumer=True)
    found: list[tuple[int, int, bytes]] = []
    try:
        while len(found) < info.state.messages:
            msg = await sub.next_msg(timeout=10)
            seq = msg.metadata.sequence.stream
            position = int((msg.headers or {}).get(POSITION_HEADER, 0))
            found.append((seq, position, hashlib.sha256(msg.data).digest()))
            if seq >= info.state.last_seq:
                break
    except nats.errors.TimeoutError:
        pass  # the stream's tail was deleted: what arrived is all there is
    finally:
        await sub.unsubscribe()
    return found


def compare_published(logged: dict[int, bytes],
                      published: list[tuple[int, int, bytes]]) -> list[str]:
    """What differs between the log and the stream: missing, extra, changed, reordered."""
    problems, seen, previous = [], {}, 0
    for seq, position, digest in published:
        if position in seen:
            problems.append(f"position {position}: published twice (stream seq {seq})")
        elif position not in logged:
            problems.append(f"position {position}: in JetStream (seq {seq}) but not in"
                            " the log (extra)")
        elif logged[position] != digest:
            problems.append(f"position {position}: payload differs (stream seq {seq})")
        if position <= previous:
            problems.append(f"position {position}: out of order at stream seq {seq}"
                            f" (after {previous})")
        seen[position], previous = seq, max(previous, position)
    missing = [position for position in logged if position not in seen]
    problems += [f"position {position}: missing from JetStream" for position in missing]
    if len(published) != len(logged):
        problems.append(f"JetStream holds {len(published)} events, the log {len(logged)}")
    return problems


async def check_jetstream(database_url: str, nats_url: str, *, user: str | None,
                          password: str | None, wait: float = 5.0) -> list[str]:
    """Compare CLOUD_EVENTS with the log."""
    logged = logged_digests(database_url)
    nc = await bus.connect(nats_url, user=user, password=password, name="cloud-audit")
    try:
        published = await published_digests(nc, expect=len(logged), wait=wait)
    finally:
        await nc.close()
    return compare_published(logged, published)
