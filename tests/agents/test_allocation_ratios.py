"""Per-host allocation ratios: set in a compute agent's environment, registered with its
host through the conductor, folded into the host projection, and honoured by the
scheduler's plans and its claims."""

import asyncio
import datetime as dt

import psycopg
import pytest

from cloud.adapters import bus
from cloud.adapters.eventstore import EventStore
from cloud.adapters.libvirt_driver import LibvirtDriver
from cloud.agents import reports
from cloud.agents.compute import ComputeAgent
from cloud.domain.flavor import DEFAULT_FLAVORS
from cloud.projections.queries import ReadModels
from cloud.domain.errors import Invalid
from cloud.projections.aggregate_queries import AggregateQueries
from cloud.services import aggregates, conductor, hosts, instances, scheduling, server_actions
from cloud.services.catalog import DEFAULT_IMAGE_ID
from cloud.services.host_fleet import HostFleet
from cloud.settings import allocation_ratios
from cloud.up import node_file
from cloud.util import utcnow

from tests.audit.history import catch_up, ctx


async def registered_report(nats_server, driver, ratios: dict[str, float]) -> reports.Registered:
    agent = ComputeAgent((await nats_server.connect("compute")).jetstream(), driver, "h1",
                         allocation_ratios=ratios)
    await agent.start()
    nc = await nats_server.connect("admin")
    sub = await nc.jetstream().pull_subscribe_bind(bus.CONDUCTOR_CONSUMER,
                                                   stream=bus.REPORTS_STREAM)
    msgs = await sub.fetch(1, timeout=5)
    await msgs[0].ack()
    await nc.close()
    return reports.decode(msgs[0].data)


def test_an_agents_ratios_reach_the_scheduler_through_the_log(nats_server, tmp_path,
                                                                database_url):
    driver = LibvirtDriver(f"test://{node_file(tmp_path, 'h1')}",
                           instances_path=tmp_path / "instances", hostname="h1")
    try:
        report = asyncio.run(registered_report(
            nats_server, driver, allocation_ratios({"CLOUD_CPU_ALLOCATION_RATIO": "1.5",
                                                    "CLOUD_DISK_ALLOCATION_RATIO": "2"})))
    finally:
        driver.close()
    assert isinstance(report, reports.Registered)
    assert (report.cpu_allocation_ratio, report.ram_allocation_ratio,
            report.disk_allocation_ratio) == (1.5, None, 2.0)

    store = EventStore(database_url)
    conductor.apply(store, report, ctx(agent="compute:h1"))
    conductor.apply(store, report, ctx(agent="compute:h1"))  # delivered twice: one event
    assert [r.envelope.event for r in store.read(0, 100)].count("HostRegistered") == 1
    catch_up(database_url, store)
    read_models = ReadModels(database_url)
    (view,) = HostFleet(read_models).views(dt.datetime.now(dt.UTC))
    assert (view.ratios.cpu, view.ratios.ram, view.ratios.disk) == (1.5, 1.0, 2.0)
    read_models.close()
    store.close()


def boot(store, database_url, read_models, name: str) -> str | None:
    server_id, _ = instances.create(store, name=name, flavor=DEFAULT_FLAVORS[0],
                                    image_ref=DEFAULT_IMAGE_ID,
                                    context=ctx(f"req-{name}", user_id="u", project_id="p"))
    catch_up(database_url, store)
    host = scheduling.schedule(store, read_models, server_id, context=ctx(agent="scheduler"))
    catch_up(database_url, store)
    return host


def test_a_hosts_own_cpu_ratio_bounds_what_the_scheduler_places(database_url):
    store, read_models = EventStore(database_url), ReadModels(database_url)
    # Two vCPUs at 1.0 take two one-vCPU servers; Nova's default of 4.0 would take eight.
    hosts.register(store, "strict", context=ctx(agent="compute:strict"),
                   hypervisor_type="QEMU", hypervisor_hostname="strict", vcpus=2,
                   memory_mb=65536, disk_gb=1000, cpu_allocation_ratio=1.0)
    catch_up(database_url, store)
    with psycopg.connect(database_url, autocommit=True) as conn:
        conductor.record_heartbeat(conn, "strict", "nova-compute", utcnow())
    placed = [boot(store, database_url, read_models, f"vm{n}") for n in range(3)]
    assert placed == ["strict", "strict", None]
    failed = read_models.server(instances_named(read_models, "vm2"))
    assert failed["vm_state"] == "error" and "VCPU" in str(failed["fault"])
    assert sum(h["vcpus_used"] for h in read_models.hosts()) == 2

    # The operator raises the ratio (the agent restarts with a new setting): room again.
    hosts.register(store, "strict", context=ctx(agent="compute:strict"),
                   hypervisor_type="QEMU", hypervisor_hostname="strict", vcpus=2,
                   memory_mb=65536, disk_gb=1000, cpu_allocation_ratio=2.0)
    catch_up(database_url, store)
    assert [boot(store, database_url, read_models, f"more{n}") for n in range(3)] \
        == ["strict", "strict", None]
    read_models.close()
    store.close()


def instances_named(read_models: ReadModels, name: str) -> str:
    (row,) = [s for s in read_models.servers(project_id=None, name=f"^{name}$")]
    return row["id"]


@pytest.mark.parametrize("raw", ["0", "-1", "many", "inf"])
def test_a_bad_ratio_in_the_environment_stops_the_agent_with_its_name(raw):
    with pytest.raises(SystemExit, match="CLOUD_RAM_ALLOCATION_RATIO must be a positive"):
        allocation_ratios({"CLOUD_RAM_ALLOCATION_RATIO": raw})
    assert allocation_ratios({"CLOUD_RAM_ALLOCATION_RATIO": " "}) == {}


def test_a_resize_is_claimed_with_the_ratio_an_aggregate_sets(database_url):
    store, read_models = EventStore(database_url), ReadModels(database_url)
    queries = AggregateQueries(read_models.pool)
    hosts.register(store, "tight", context=ctx(agent="compute:tight"),
                   hypervisor_type="QEMU", hypervisor_hostname="tight", vcpus=4,
                   memory_mb=4096, disk_gb=100)
    catch_up(database_url, store)
    with psycopg.connect(database_url, autocommit=True) as conn:
        conductor.record_heartbeat(conn, "tight", "nova-compute", utcnow())
    assert boot(store, database_url, read_models, "grows") == "tight"
    server_id = instances_named(read_models, "grows")
    instances.spawned(store, server_id, host_name="tight", power_state=1,
                      context=ctx(agent="compute:tight"))
    # RAM at 0.5: 2048 MiB to give, 512 held; the 2048 MiB flavor does not fit beside it.
    aggregate_id, _ = aggregates.create(store, name="half-ram", availability_zone=None,
                                        context=ctx(user_id="admin"))
    aggregates.add_host(store, queries, aggregate_id, "1", "tight", context=ctx(user_id="a"))
    aggregates.set_metadata(store, queries, aggregate_id, "1",
                            {"ram_allocation_ratio": "0.5"}, context=ctx(user_id="a"))
    catch_up(database_url, store)
    bigger = DEFAULT_FLAVORS[1]
    with pytest.raises(Invalid, match="Host tight has not enough memory_mb"):
        server_actions.resize(store, server_id, flavor=bigger, context=ctx(user_id="u"),
                              is_admin=True, aggregates=queries)
    # Back to 1.0 through the aggregate: it fits.
    aggregates.set_metadata(store, queries, aggregate_id, "1",
                            {"ram_allocation_ratio": "1.0"}, context=ctx(user_id="a"))
    catch_up(database_url, store)
    assert server_actions.resize(store, server_id, flavor=bigger, context=ctx(user_id="u"),
                                 is_admin=True, aggregates=queries)
    read_models.close()
    store.close()
