"""A compute agent on libvirt's test driver, fed real JetStream messages."""

import asyncio
import uuid

import pytest

from cloud.adapters import bus
from cloud.adapters.libvirt_driver import LibvirtDriver
from cloud.agents import reports
from cloud.agents.compute import ComputeAgent
from cloud.domain import envelope
from cloud.domain.envelope import Actor, Envelope
from cloud.domain.events import InstanceDeleteRequested, InstanceScheduled
from cloud.domain.flavor import DEFAULT_FLAVORS
from cloud.up import node_file


def event(instance_id: str, version: int, data) -> bytes:
    return envelope.encode(Envelope(
        event=type(data).__name__, aggregate="instance", id=instance_id, key=instance_id,
        version=version, timestamp="2026-11-24T00:00:00+00:00", request_id="req-x",
        actor=Actor(agent="test"), data=data))


def scheduled(instance_id: str) -> bytes:
    return event(instance_id, 2, InstanceScheduled(
        host="h1", node="h1", name="vm", flavor=DEFAULT_FLAVORS[0], image_ref="img"))


@pytest.fixture
def driver(tmp_path):
    # A node file gives this test its own simulated host (test:///default is shared).
    driver = LibvirtDriver(f"test://{node_file(tmp_path, 'h1')}",
                           instances_path=tmp_path / "instances", hostname="h1")
    yield driver
    driver.close()


async def run_agent(nats_server, driver, deliveries: list[bytes]) -> list[reports.Report]:
    """Start an agent, deliver messages (each a separate JetStream message), collect reports."""
    nc = await nats_server.connect("admin")
    js = nc.jetstream()
    agent = ComputeAgent((await nats_server.connect("compute")).jetstream(), driver, "h1")
    await agent.start()
    runtime = agent.runtime()
    task = asyncio.create_task(runtime.run())
    for n, payload in enumerate(deliveries):
        instance_id = envelope.decode(payload).id
        await js.publish(f"cloud.host.h1.instance.{instance_id}.X", payload,
                         headers={"Nats-Msg-Id": f"delivery-{uuid.uuid4()}-{n}"})
    for _ in range(100):
        info = await js.consumer_info(bus.HOSTS_STREAM, "compute-h1")
        if info.ack_floor.stream_seq and info.num_pending == 0 and info.num_ack_pending == 0:
            break
        await asyncio.sleep(0.05)
    runtime.stop()
    await task
    sub = await js.pull_subscribe_bind(bus.CONDUCTOR_CONSUMER, stream=bus.REPORTS_STREAM)
    got = []
    try:
        while True:
            for msg in await sub.fetch(50, timeout=1):
                got.append(reports.decode(msg.data))
                await msg.ack()
    except (asyncio.TimeoutError, Exception):
        pass
    await nc.close()
    return got


def test_the_same_event_twice_spawns_one_domain_and_reports_once(nats_server, driver):
    instance_id = str(uuid.uuid4())
    got = asyncio.run(run_agent(nats_server, driver,
                                [scheduled(instance_id), scheduled(instance_id)]))
    assert driver.guest_ids() == [instance_id]
    assert driver.power_state(instance_id) == 1
    kinds = [reports.kind(r) for r in got]
    assert kinds == ["registered", "spawned"]
    assert got[0].memory_mb == 128 * 1024 and got[0].vcpus == 32  # read from libvirt


def test_a_late_redelivery_of_the_spawn_after_the_delete_does_not_revive_the_guest(
        nats_server, driver):
    instance_id = str(uuid.uuid4())
    delete = event(instance_id, 3, InstanceDeleteRequested(host="h1"))
    got = asyncio.run(run_agent(nats_server, driver,
                                [scheduled(instance_id), delete, scheduled(instance_id)]))
    assert driver.guest_ids() == []
    assert [reports.kind(r) for r in got] == ["registered", "spawned", "deleted"]
