"""Server groups, availability zones and aggregates through the real boot path: relay,
two schedulers, conductor, projector and three compute agents on libvirt's test driver."""

from concurrent.futures import ThreadPoolExecutor

import pytest

from cloud.adapters.eventstore import EventStore
from cloud.domain.envelope import Actor, Context
from cloud.domain.flavor import DEFAULT_FLAVORS
from cloud.projections.aggregate_queries import AggregateQueries
from cloud.projections.queries import ReadModels
from cloud.services import aggregates, instances, server_groups
from cloud.services.catalog import DEFAULT_IMAGE_ID
from cloud.util import utcnow
from tests.agents.test_boot_flow import start_stack, wait_until

TINY = DEFAULT_FLAVORS[0]
HOSTS = ("host1", "host2", "host3")


@pytest.fixture
def stack(nats_server, database_url, processes):
    start_stack(processes, nats_server, database_url, hosts=HOSTS)
    processes.start("scheduler-2", "scheduler",
                    env={"CLOUD_DATABASE_URL": database_url, **nats_server.env("scheduler")})
    read_models = ReadModels(database_url)
    wait_until(lambda: len(read_models.hosts()) == 3 and all(
        h["last_seen_at"] for h in read_models.hosts()), timeout=60)
    store = EventStore(database_url, pool_size=8)
    yield store, read_models
    read_models.close()
    store.close()


def context():
    return Context(request_id="req-groups", actor=Actor(user_id="u1", project_id="p1"),
                   timestamp=utcnow())


def boot(store, n, **options):
    return instances.create(store, name=f"vm-{n}", flavor=TINY, image_ref=DEFAULT_IMAGE_ID,
                            context=context(), **options)[0]


def settled(read_models, server_ids):
    rows = [read_models.server(i) for i in server_ids]
    return all(r and r["vm_state"] in ("active", "error") for r in rows) and rows


def group(store, policy):
    group_id, _ = server_groups.create(store, name=policy, policy=policy, rules={},
                                       context=context())
    return {"group": group_id}


def test_anti_affinity_spreads_concurrent_boots_and_refuses_a_fourth(stack):
    store, read_models = stack
    hints = group(store, "anti-affinity")
    with ThreadPoolExecutor(3) as pool:
        ids = list(pool.map(lambda n: boot(store, n, scheduler_hints=hints), range(3)))
    rows = wait_until(lambda: settled(read_models, ids), timeout=60)
    assert [r["vm_state"] for r in rows] == ["active"] * 3
    assert sorted(r["host"] for r in rows) == list(HOSTS)

    fourth = boot(store, 4, scheduler_hints=hints)
    failed = wait_until(lambda: settled(read_models, [fourth]), timeout=60)[0]
    assert failed["vm_state"] == "error"
    assert failed["fault"]["message"] == ("No valid host was found. ServerGroupAntiAffinity:"
                                          " 3 of 3 hosts removed")


def test_affinity_keeps_members_together(stack):
    store, read_models = stack
    hints = group(store, "affinity")
    first = boot(store, 0, scheduler_hints=hints)
    host = wait_until(lambda: settled(read_models, [first]), timeout=60)[0]["host"]
    with ThreadPoolExecutor(3) as pool:
        ids = list(pool.map(lambda n: boot(store, n, scheduler_hints=hints), range(1, 4)))
    rows = wait_until(lambda: settled(read_models, ids), timeout=60)
    assert {(r["vm_state"], r["host"]) for r in rows} == {("active", host)}


def test_a_zone_made_by_an_aggregate_takes_only_its_hosts(stack):
    store, read_models = stack
    aggregate_id, _ = aggregates.create(store, name="edge", availability_zone="edge-az",
                                        context=context())
    positions = aggregates.add_host(
        store, _queries(read_models), aggregate_id, "1", "host2", context=context())
    read_models.wait_for(max(positions))
    ids = [boot(store, n, availability_zone="edge-az") for n in range(3)]
    rows = wait_until(lambda: settled(read_models, ids), timeout=60)
    assert {(r["vm_state"], r["host"], r["availability_zone"]) for r in rows} == {
        ("active", "host2", "edge-az")}
    # A server without a zone placed on host2 shows host2's zone.
    others = [boot(store, n) for n in range(10, 16)]
    placed = wait_until(lambda: settled(read_models, others), timeout=60)
    zones = {r["host"]: r["availability_zone"] for r in placed}
    assert all(zone == ("edge-az" if host == "host2" else None)
               for host, zone in zones.items())


def test_different_host_and_same_host_hints(stack):
    store, read_models = stack
    first = boot(store, 0)
    host = wait_until(lambda: settled(read_models, [first]), timeout=60)[0]["host"]
    apart = [boot(store, n, scheduler_hints={"different_host": [first]}) for n in (1, 2)]
    near = boot(store, 3, scheduler_hints={"same_host": first})
    rows = wait_until(lambda: settled(read_models, [*apart, near]), timeout=60)
    assert all(r["host"] != host for r in rows[:2]) and rows[2]["host"] == host


def _queries(read_models):
    return AggregateQueries(read_models.pool)
