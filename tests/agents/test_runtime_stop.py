"""A stopping agent hands its unfinished messages back to JetStream at once, so the next
agent takes them up in seconds, not when their ack deadline (60 s for a compute host)
passes. Real nats-server with our nats.conf."""

import asyncio
import time
import uuid

from nats.aio.msg import Msg

from cloud.adapters import bus
from cloud.agents.runtime import Runtime, subject_key

HOST = "h1"


def runtime(js, handler, *, grace: float) -> Runtime:
    return Runtime(js, stream=bus.HOSTS_STREAM, durable=bus.compute_consumer(HOST).durable_name,
                   handler=handler, key_of=subject_key(4), grace=grace)


async def test_work_unfinished_at_stop_is_handed_back_to_the_next_agent(nats_server):
    nc = await nats_server.connect("admin")
    js = nc.jetstream()
    consumer = await js.add_consumer(bus.HOSTS_STREAM, bus.compute_consumer(HOST))
    assert consumer.config.ack_wait == 60
    instance = str(uuid.uuid4())
    # Two steps of one instance: the second waits behind the first, which never ends.
    subjects = [f"cloud.host.{HOST}.instance.{instance}.Step{n}" for n in range(2)]
    for subject in subjects:
        await js.publish(subject, b"{}", headers={"Nats-Msg-Id": f"{subject}-once"})

    started = asyncio.Event()

    async def stuck(msg: Msg) -> None:
        started.set()
        await asyncio.Event().wait()

    first = runtime(js, stuck, grace=0.2)
    running = asyncio.create_task(first.run())
    await asyncio.wait_for(started.wait(), timeout=10)
    first.stop()
    await asyncio.wait_for(running, timeout=10)  # it does not wait for the stuck step

    seen: list[tuple[str, int]] = []

    async def record(msg: Msg) -> None:
        seen.append((msg.subject, msg.metadata.num_delivered))

    second = runtime(js, record, grace=0.2)
    running = asyncio.create_task(second.run())
    stopped_at = time.monotonic()
    while len(seen) < 2 and time.monotonic() - stopped_at < 20:  # a third of ack_wait
        await asyncio.sleep(0.05)
    second.stop()
    await running
    # Both came again, in order, each on its second delivery.
    assert seen == [(subjects[0], 2), (subjects[1], 2)]
    info = await js.consumer_info(bus.HOSTS_STREAM, bus.compute_consumer(HOST).durable_name)
    assert (info.num_pending, info.num_ack_pending) == (0, 0)
    await nc.close()
