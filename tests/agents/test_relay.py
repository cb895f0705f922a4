"""The relay publishes the log in order, and a kill -9 mid-stream loses and repeats nothing."""

import asyncio
import json
import os
import signal
import time
import uuid

from cloud.adapters import bus
from cloud.adapters.eventstore import Batch, EventStore
from cloud.domain import instance
from cloud.domain.envelope import Actor, Context
from cloud.domain.flavor import DEFAULT_FLAVORS

SERVERS = 1500  # two events each


def fill_log(store: EventStore) -> None:
    context = Context(request_id="req-fill", actor=Actor(agent="test"), timestamp="t")
    batches = []
    for n in range(SERVERS):
        instance_id = uuid.uuid4()
        events = instance.request(str(instance_id), name=f"vm{n}", project_id="p",
                                  user_id="u", flavor=DEFAULT_FLAVORS[0], image_ref="img")
        state = instance.evolve(None, str(instance_id), events[0])
        events += instance.request_delete(state)[:1]
        batches.append(Batch(instance_id, str(instance_id), 0, events))
    for start in range(0, len(batches), 100):
        store.append(*batches[start:start + 100], context=context)


async def stream_count(nats_server) -> int:
    nc = await nats_server.connect()
    info = await nc.jetstream().stream_info(bus.EVENTS_STREAM)
    await nc.close()
    return info.state.messages


async def stream_positions(nats_server) -> list[tuple[int, str]]:
    nc = await nats_server.connect()
    js = nc.jetstream()
    sub = await js.subscribe("cloud.events.>", ordered_consumer=True)
    seen = []
    try:
        while True:
            msg = await sub.next_msg(timeout=2)
            seen.append((int(msg.headers["Cloud-Position"]), json.loads(msg.data)["event"]))
    except Exception:
        pass
    await nc.close()
    return seen


def test_relay_killed_mid_stream_resumes_without_loss_or_duplicates(
        nats_server, database_url, processes):
    store = EventStore(database_url)
    fill_log(store)
    log = [(r.position, r.envelope.event) for r in store.read(0, 100_000)]
    env = {"CLOUD_DATABASE_URL": database_url, **nats_server.env("relay")}

    relay = processes.start("relay-1", "relay", env=env)
    deadline = time.monotonic() + 60
    while (published := asyncio.run(stream_count(nats_server))) < 300:
        assert time.monotonic() < deadline, processes.log("relay-1")
        time.sleep(0.02)
    os.kill(relay.pid, signal.SIGKILL)
    relay.wait()
    at_kill = asyncio.run(stream_count(nats_server))
    assert 300 <= at_kill < len(log), "the kill must land mid-stream"

    processes.start("relay-2", "relay", env=env)
    while asyncio.run(stream_count(nats_server)) < len(log):
        assert time.monotonic() < deadline + 60, processes.log("relay-2")
        time.sleep(0.1)
    time.sleep(0.5)  # anything extra would show up now
    assert asyncio.run(stream_positions(nats_server)) == log
    assert f"resuming after log position {log[at_kill - 1][0]}" in processes.log("relay-2")
    assert published >= 300


def test_a_second_relay_racing_the_first_cannot_interleave(nats_server, database_url, processes):
    store = EventStore(database_url)
    fill_log(store)
    log = [(r.position, r.envelope.event) for r in store.read(0, 100_000)]
    env = {"CLOUD_DATABASE_URL": database_url, **nats_server.env("relay")}
    processes.start("relay-a", "relay", env=env)
    processes.start("relay-b", "relay", env=env)
    deadline = time.monotonic() + 90
    while asyncio.run(stream_count(nats_server)) < len(log):
        assert time.monotonic() < deadline, processes.log("relay-a") + processes.log("relay-b")
        time.sleep(0.1)
    time.sleep(0.5)
    assert asyncio.run(stream_positions(nats_server)) == log
