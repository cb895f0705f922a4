"""A spawn that fails on one host is retried on another, up to three attempts, with every
attempt in the log and the failed host's claim given back. Real PostgreSQL; the reports
are the ones compute agents send, applied by the conductor's service."""

import uuid

import psycopg
import pytest

from cloud.adapters.eventstore import EventStore
from cloud.agents.reports import SpawnFailed
from cloud.domain.envelope import Actor, Context
from cloud.domain.flavor import DEFAULT_FLAVORS
from cloud.projections import projector
from cloud.projections.queries import ReadModels
from cloud.services import conductor, hosts, instances, scheduling
from cloud.services.catalog import DEFAULT_IMAGE_ID
from cloud.services.repository import load_host
from cloud.util import utcnow


def context() -> Context:
    return Context(request_id="req-r", actor=Actor(agent="test"), timestamp=utcnow())


@pytest.fixture
def cloud(database_url):
    store, read_models = EventStore(database_url), ReadModels(database_url)
    with psycopg.connect(database_url, autocommit=True) as conn:
        for name in ("h1", "h2", "h3"):
            hosts.register(store, name, context=context(), hypervisor_type="QEMU",
                           hypervisor_hostname=name, vcpus=8, memory_mb=8192, disk_gb=100)
            conductor.record_heartbeat(conn, name, "nova-compute", utcnow())
        yield store, read_models, lambda: projector.catch_up(store, conn)
    read_models.close()


def test_failed_spawns_move_to_other_hosts_then_fail_with_every_attempt(cloud):
    store, read_models, fold = cloud
    server_id, _ = instances.create(store, name="retry", flavor=DEFAULT_FLAVORS[0],
                                    image_ref=DEFAULT_IMAGE_ID, context=context())
    tried = []
    for attempt in range(3):
        fold()
        chosen = scheduling.schedule(store, read_models, server_id, context=context())
        assert chosen is not None and chosen not in tried
        tried.append(chosen)
        report = SpawnFailed(host=chosen, instance_id=server_id, message="disk I/O error")
        conductor.apply(store, report, context())
        conductor.apply(store, report, context())  # delivered twice: one outcome
        assert load_host(store, chosen)[0].claims == {}
    fold()
    names = [e.event for e in store.load(uuid.UUID(server_id))]
    assert names == ["InstanceRequested", "InstanceScheduled", "InstanceRescheduled",
                     "InstanceScheduled", "InstanceRescheduled", "InstanceScheduled",
                     "InstanceFailed"]
    server = read_models.server(server_id)
    assert server["vm_state"] == "error"
    assert server["fault"]["message"].startswith("Exceeded maximum number of retries")
    assert all(h in server["fault"]["details"] for h in tried)
    failed = {h["name"]: h["failed_builds"] for h in read_models.hosts()}
    assert failed == {"h1": 1, "h2": 1, "h3": 1}


def test_a_successful_build_resets_its_hosts_failure_count(cloud):
    store, read_models, fold = cloud
    first, _ = instances.create(store, name="a", flavor=DEFAULT_FLAVORS[0],
                                image_ref=DEFAULT_IMAGE_ID, context=context())
    fold()
    bad = scheduling.schedule(store, read_models, first, context=context())
    conductor.apply(store, SpawnFailed(host=bad, instance_id=first, message="boom"),
                    context())
    fold()
    assert {h["name"]: h["failed_builds"] for h in read_models.hosts()}[bad] == 1
    # The failing host now weighs least: the retry and the next server go elsewhere.
    good = scheduling.schedule(store, read_models, first, context=context())
    assert good != bad
    instances.spawned(store, first, host_name=good, power_state=1, context=context())
    second, _ = instances.create(store, name="b", flavor=DEFAULT_FLAVORS[0],
                                 image_ref=DEFAULT_IMAGE_ID, context=context())
    fold()
    assert scheduling.schedule(store, read_models, second, context=context()) != bad
    # A build that later succeeds on the failing host puts it back in rotation.
    third, _ = instances.create(store, name="c", flavor=DEFAULT_FLAVORS[0],
                                image_ref=DEFAULT_IMAGE_ID, context=context())
    instances.schedule(store, third, host_name=bad, context=context())
    instances.spawned(store, third, host_name=bad, power_state=1, context=context())
    fold()
    assert {h["name"]: h["failed_builds"] for h in read_models.hosts()}[bad] == 0
