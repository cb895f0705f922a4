"""Image precache on an aggregate (2.81), past the API: the request names the aggregate's
hosts, the relay copies it to each, and a host's compute agent fetches the images into
its base image cache. Real PostgreSQL, nats-server with our nats.conf, libvirt's test
driver with a real image cache."""

import asyncio
import hashlib
import uuid

import pytest

from cloud.adapters import bus
from cloud.adapters.eventstore import Batch, EventStore
from cloud.adapters.image_sources import LocalImages
from cloud.adapters.libvirt_driver import LibvirtDriver
from cloud.agents import relay
from cloud.agents.compute import ComputeAgent
from cloud.domain import aggregate
from cloud.domain.envelope import Actor, Context
from cloud.services import aggregates, image_cache
from cloud.up import node_file

CONTEXT = Context(request_id="req-precache", actor=Actor(user_id="admin", project_id="p"),
                  timestamp="2026-11-24T00:00:00+00:00")


def aggregate_with_hosts(store: EventStore, hosts: list[str]) -> str:
    aggregate_uuid, _ = aggregates.create(store, name=f"agg-{uuid.uuid4().hex[:6]}",
                                          availability_zone=None, context=CONTEXT)
    for host in hosts:
        state, version = aggregates.load_aggregate(store, aggregate_uuid)
        events = aggregate.add_host(state, aggregate_uuid, host, other_zones=set())
        store.append(Batch(uuid.UUID(aggregate_uuid), aggregate_uuid, version, events),
                     context=CONTEXT)
    return aggregate_uuid


@pytest.fixture
def images(tmp_path) -> LocalImages:
    sources = {}
    for name in ("img-a", "img-b"):
        path = tmp_path / f"{name}.raw"
        path.write_bytes(name.encode() * 1000)
        sources[name] = (path, hashlib.sha512(path.read_bytes()).hexdigest())
    return LocalImages(sources)


async def test_each_host_of_the_aggregate_fetches_the_images(nats_server, database_url,
                                                             tmp_path, images):
    store = EventStore(database_url)
    aggregate_uuid = aggregate_with_hosts(store, ["h1", "h2"])
    positions = image_cache.cache_images(store, aggregate_uuid, aggregate_uuid,
                                         ["img-a", "img-b"], image_exists=lambda _: True,
                                         context=CONTEXT)
    [recorded] = store.read(positions[0] - 1, 1)
    assert recorded.envelope.data.hosts == ["h1", "h2"]

    nc = await nats_server.connect("admin")
    js = nc.jetstream()
    for host in ("h1", "h2"):  # the hosts' consumers exist before the copies are sent
        await js.add_consumer(bus.HOSTS_STREAM, bus.compute_consumer(host))
    await relay.publish(js, recorded, 0)
    await relay.publish(js, recorded, 0)  # a relay's retry: each copy dedupes
    for host in ("h1", "h2"):
        info = await js.consumer_info(bus.HOSTS_STREAM, bus.compute_consumer(host).durable_name)
        assert info.num_pending == 1, host

    driver = LibvirtDriver(f"test://{node_file(tmp_path, 'h1')}",
                           instances_path=tmp_path / "instances", hostname="h1",
                           fetch_image=images)
    agent = ComputeAgent((await nats_server.connect("compute")).jetstream(), driver, "h1")
    await agent.start()
    runtime = agent.runtime()
    running = asyncio.create_task(runtime.run())
    bases = tmp_path / "instances" / "_base"
    for _ in range(200):
        if sorted(p.name for p in bases.glob("img-*")) == ["img-a", "img-b"]:
            break
        await asyncio.sleep(0.05)
    runtime.stop()
    await running
    driver.close()
    assert (bases / "img-b").read_bytes() == b"img-b" * 1000
    info = await js.consumer_info(bus.HOSTS_STREAM, "compute-h1")
    assert (info.num_pending, info.num_ack_pending) == (0, 0)
    await nc.close()
    store.close()
