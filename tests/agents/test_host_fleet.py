"""The scheduler's kept picture of the fleet: it reads only what changed, and what it
shows always equals a fresh read of the projection (real PostgreSQL, real folds)."""

import datetime as dt

import psycopg
import pytest

from cloud.adapters.eventstore import EventStore
from cloud.domain.host import Claim
from cloud.projections import rebuild
from cloud.projections.queries import ReadModels
from cloud.services import aggregates, compute_services, conductor, hosts
from cloud.services.host_fleet import HostFleet
from cloud.util import utcnow
from cloud.projections.aggregate_queries import AggregateQueries
from tests.audit.history import catch_up, ctx

HOSTS = ("h1", "h2", "h3")
ONE = Claim(vcpus=1, memory_mb=512, disk_gb=1)


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def fleet_db(database_url):
    store, read_models = EventStore(database_url), ReadModels(database_url)
    for name in HOSTS:
        hosts.register(store, name, context=ctx(agent=f"compute:{name}"),
                       hypervisor_type="QEMU", hypervisor_hostname=name, vcpus=4,
                       memory_mb=4096, disk_gb=40)
    catch_up(database_url, store)
    beat(database_url, *HOSTS)
    yield store, read_models, database_url
    read_models.close()
    store.close()


def beat(database_url: str, *names: str, at: dt.datetime | None = None) -> None:
    with psycopg.connect(database_url, autocommit=True) as conn:
        for name in names:
            conductor.record_heartbeat(conn, name, "nova-compute", at or utcnow())


def claim(store, database_url, host: str, instance_id: str) -> None:
    hosts.claim(store, host, instance_id=instance_id, resources=ONE,
                ratios=None, context=ctx(agent="scheduler"))
    catch_up(database_url, store)


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def same_as_fresh(fleet: HostFleet, read_models: ReadModels) -> None:
    """What the kept picture shows equals a picture read from scratch."""
    fresh = HostFleet(read_models)
    assert sorted(fleet.views(now()), key=lambda v: v.name) == \
        sorted(fresh.views(now()), key=lambda v: v.name)


def test_a_claim_folded_changes_only_its_hosts_view(fleet_db):
    store, read_models, url = fleet_db
    fleet = HostFleet(read_models)
    before = {view.name: view for view in fleet.views(now())}
    assert set(before) == set(HOSTS) and all(view.up for view in before.values())

    claim(store, url, "h2", "00000000-0000-0000-0000-000000000001")
    after = {view.name: view for view in fleet.views(now())}
    assert after["h1"] is before["h1"] and after["h3"] is before["h3"]  # not rebuilt
    assert after["h2"].used == ONE
    assert after["h2"].instances == {"00000000-0000-0000-0000-000000000001"}
    same_as_fresh(fleet, read_models)

    hosts.release(store, "h2", instance_id="00000000-0000-0000-0000-000000000001",
                  context=ctx(agent="scheduler"))
    catch_up(url, store)
    released = {view.name: view for view in fleet.views(now())}
    assert released["h2"].used == Claim(vcpus=0, memory_mb=0, disk_gb=0)
    assert released["h2"].instances == frozenset()
    same_as_fresh(fleet, read_models)


def test_aggregate_ratios_and_service_switches_reach_the_kept_views(fleet_db):
    store, read_models, url = fleet_db
    fleet = HostFleet(read_models)
    assert {view.effective_ratios.cpu for view in fleet.views(now())} == {4.0}

    queries = AggregateQueries(read_models.pool)
    aggregate_id, _ = aggregates.create(store, name="tight", availability_zone="az1",
                                        context=ctx(user_id="admin"))
    aggregates.add_host(store, queries, aggregate_id, "1", "h3", context=ctx(user_id="a"))
    aggregates.set_metadata(store, queries, aggregate_id, "1",
                            {"cpu_allocation_ratio": "1.0"}, context=ctx(user_id="a"))
    compute_services.disable(store, "h1", "nova-compute", reason="maintenance",
                             context=ctx(user_id="a"))
    catch_up(url, store)
    views = {view.name: view for view in fleet.views(now())}
    assert views["h3"].effective_ratios.cpu == 1.0
    assert views["h3"].availability_zone == "az1"
    assert views["h2"].effective_ratios.cpu == 4.0
    assert not views["h1"].enabled and views["h2"].enabled
    same_as_fresh(fleet, read_models)

    compute_services.enable(store, "h1", "nova-compute", context=ctx(user_id="a"))
    aggregates.remove_host(store, aggregate_id, "1", "h3", context=ctx(user_id="a"))
    catch_up(url, store)
    views = {view.name: view for view in fleet.views(now())}
    assert views["h1"].enabled and views["h3"].effective_ratios.cpu == 4.0
    same_as_fresh(fleet, read_models)


def test_liveness_is_judged_at_each_decision_and_heartbeats_reread(fleet_db):
    store, read_models, url = fleet_db
    clock = Clock()
    fleet = HostFleet(read_models, clock=clock, liveness_every=5.0)
    assert all(view.up for view in fleet.views(now()))
    # Time passes without a heartbeat: the hosts go down, with no new read needed.
    later = now() + compute_services.down_time() + dt.timedelta(seconds=1)
    assert not any(view.up for view in fleet.views(later))
    # h2 beats (at "later"); read again once the liveness period has passed.
    beat(url, "h2", at=later)
    assert not any(view.up for view in fleet.views(later))
    clock.now += 5.0
    assert {view.name for view in fleet.views(later) if view.up} == {"h2"}


def test_own_claims_count_at_once_and_the_projection_then_takes_over(fleet_db):
    store, read_models, url = fleet_db
    fleet = HostFleet(read_models)
    fleet.views(now())
    instance = "00000000-0000-0000-0000-000000000007"
    hosts.claim(store, "h1", instance_id=instance, resources=ONE,
                ratios=None, context=ctx(agent="scheduler"))
    fleet.claimed("h1", instance, ONE)
    fleet.claimed("h1", instance, ONE)  # told twice: counted once
    (h1,) = [view for view in fleet.views(now()) if view.name == "h1"]
    assert h1.used == ONE and h1.instances == {instance}  # not folded yet
    catch_up(url, store)
    same_as_fresh(fleet, read_models)


def test_changed_at_is_the_events_own_position_so_a_replay_writes_the_same(fleet_db):
    store, read_models, url = fleet_db
    claim(store, url, "h1", "00000000-0000-0000-0000-000000000001")
    claim(store, url, "h3", "00000000-0000-0000-0000-000000000002")
    with psycopg.connect(url, autocommit=True) as conn:
        schema = rebuild.scratch_name("fleet")
        rebuild.create_schema(conn, schema)
        try:
            rebuild.fold_into(store, conn, schema)
            live = conn.execute("SELECT name, changed_at FROM hosts ORDER BY name").fetchall()
            replayed = conn.execute(f"SELECT name, changed_at FROM {schema}.hosts"
                                    " ORDER BY name").fetchall()
        finally:
            rebuild.drop_schema(conn, schema)
    assert live == replayed
    assert all(changed for _, changed in live)
    # The claims came after the registrations, and h2 was never claimed on.
    stamps = dict(live)
    assert stamps["h1"] > stamps["h2"] and stamps["h3"] > stamps["h1"]
