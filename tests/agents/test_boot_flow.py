"""The boot path through real processes: relay, scheduler, conductor, projector and a
compute agent on libvirt's test driver, over a real nats-server and PostgreSQL."""

import asyncio
import json
import time

import pytest

from cloud.adapters.eventstore import EventStore
from cloud.domain.envelope import Actor, Context
from cloud.domain.flavor import DEFAULT_FLAVORS
from cloud.projections.queries import ReadModels
from cloud.services import instances, quotas
from cloud.services.catalog import DEFAULT_IMAGE_ID
from cloud.util import utcnow

TINY = DEFAULT_FLAVORS[0]


def start_stack(processes, nats_server, database_url, hosts=("host1",)):
    db = {"CLOUD_DATABASE_URL": database_url}
    processes.start("projector", "projector", env=db)
    processes.start("relay", "relay", env={**db, **nats_server.env("relay")})
    processes.start("scheduler", "scheduler", env={**db, **nats_server.env("scheduler")})
    processes.start("conductor", "conductor", env={**db, **nats_server.env("conductor")})
    for host in hosts:
        processes.start(f"compute-{host}", "compute", "--host", host,
                        env=nats_server.env("compute"))


def wait_until(predicate, timeout=30.0, every=0.1):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if value := predicate():
            return value
        time.sleep(every)
    raise AssertionError("condition not met in time")


@pytest.fixture
def stack(nats_server, database_url, processes):
    start_stack(processes, nats_server, database_url, hosts=("host1", "host2"))
    read_models = ReadModels(database_url)
    wait_until(lambda: len(read_models.hosts()) == 2 and all(
        h["last_seen_at"] for h in read_models.hosts()))
    yield EventStore(database_url), read_models
    read_models.close()


def context():
    return Context(request_id="req-test", actor=Actor(user_id="u1", project_id="p1"),
                   timestamp=utcnow())


def test_a_server_boots_active_on_a_registered_host_and_is_deleted(stack):
    store, read_models = stack
    server_id, _ = instances.create(store, name="vm1", flavor=TINY,
                                    image_ref=DEFAULT_IMAGE_ID, context=context())
    active = wait_until(lambda: (s := read_models.server(server_id))
                        and s["vm_state"] == "active" and s)
    assert active["host"] in {"host1", "host2"}
    assert active["power_state"] == 1
    assert active["task_state"] is None
    claims = {h["name"]: h["running_vms"] for h in read_models.hosts()}
    assert claims[active["host"]] == 1

    instances.delete(store, server_id, context=context())
    wait_until(lambda: read_models.server(server_id) is None)
    wait_until(lambda: sum(h["running_vms"] for h in read_models.hosts()) == 0)
    names = [e.event for e in store.load(__import__("uuid").UUID(server_id))]
    assert names == ["InstanceRequested", "InstanceScheduled", "InstanceSpawned",
                     "InstanceDeleteRequested", "InstanceDeleted"]


def test_a_request_no_host_can_take_fails_with_an_explanation(stack):
    store, read_models = stack
    huge = DEFAULT_FLAVORS[0].__class__(flavorid="x", name="huge", vcpus=1,
                                        ram=10**7, disk=1)
    # Past the default quota too: lift it, so that the scheduler is what refuses.
    quotas.update_limits(store, "p1", {"ram": -1}, force=False, context=context())
    server_id, _ = instances.create(store, name="big", flavor=huge,
                                    image_ref=DEFAULT_IMAGE_ID, context=context())
    failed = wait_until(lambda: (s := read_models.server(server_id))
                        and s["vm_state"] == "error" and s)
    assert "No valid host was found" in failed["fault"]["message"]
    assert "RAM: 2 of 2 hosts removed" in failed["fault"]["message"]


def test_an_auditor_sees_the_life_of_a_server_as_json(stack, nats_server):
    store, read_models = stack

    async def watch() -> list[dict]:
        nc = await nats_server.connect("auditor")
        seen: list[dict] = []
        sub = await nc.subscribe("cloud.events.instance.>")
        server_id, _ = await asyncio.to_thread(
            instances.create, store, name="watched", flavor=TINY,
            image_ref=DEFAULT_IMAGE_ID, context=context())
        while len(seen) < 3:
            msg = await sub.next_msg(timeout=20)
            body = json.loads(msg.data)
            if body["id"] == server_id:
                assert msg.subject == f"cloud.events.instance.{server_id}.{body['event']}"
                seen.append(body)
        await nc.close()
        return seen

    seen = asyncio.run(watch())
    assert [e["event"] for e in seen] == ["InstanceRequested", "InstanceScheduled",
                                         "InstanceSpawned"]
    assert [e["version"] for e in seen] == [1, 2, 3]
    assert all(e["request_id"] == "req-test" and e["timestamp"] for e in seen)
