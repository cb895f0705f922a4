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
from cloud.domain import events as ev
from cloud.domain.events import InstanceDeleteRequested, InstanceScheduled
from cloud.domain.flavor import DEFAULT_FLAVORS
from cloud.up import node_file

TINY, SMALL = DEFAULT_FLAVORS[0], DEFAULT_FLAVORS[1]


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


def stopped(instance_id: str) -> list[bytes]:
    return [scheduled(instance_id), event(instance_id, 3, ev.InstanceStopRequested(host="h1"))]


def done_reports(got: list[reports.Report]) -> list[tuple[str, int]]:
    return [(r.event, r.power_state) for r in got if isinstance(r, reports.ActionDone)]


def test_a_stopped_guest_rebuilt_twice_is_left_shut_off(nats_server, driver):
    instance_id = str(uuid.uuid4())
    rebuild = event(instance_id, 5, ev.InstanceRebuildRequested(
        host="h1", image_ref="img2", name="vm", flavor=TINY, power_on=False))
    got = asyncio.run(run_agent(nats_server, driver, [*stopped(instance_id), rebuild,
                                                      rebuild]))
    assert not driver.conn.lookupByUUIDString(instance_id).isActive()
    assert driver.power_state(instance_id) == 4
    assert done_reports(got) == [("InstanceStopped", 4), ("InstanceRebuilt", 4)]


def test_a_stopped_guest_resized_and_reverted_twice_each_is_left_shut_off(
        nats_server, driver):
    instance_id = str(uuid.uuid4())
    resize = event(instance_id, 5, ev.InstanceResizeRequested(
        host="h1", name="vm", image_ref="img", old_flavor=TINY, flavor=SMALL,
        power_on=False))
    revert = event(instance_id, 7, ev.InstanceResizeRevertRequested(
        host="h1", name="vm", image_ref="img", flavor=TINY, power_on=False))
    got = asyncio.run(run_agent(nats_server, driver, [*stopped(instance_id), resize,
                                                      resize]))
    domain = driver.conn.lookupByUUIDString(instance_id)
    assert not domain.isActive() and domain.info()[1] == SMALL.ram * 1024  # KiB
    assert done_reports(got)[1:] == [("InstanceResized", 4)]
    got = asyncio.run(run_agent(nats_server, driver, [revert, revert]))
    domain = driver.conn.lookupByUUIDString(instance_id)
    assert not domain.isActive() and domain.info()[1] == TINY.ram * 1024
    assert done_reports(got) == [("InstanceResizeReverted", 4)]
