"""Scheduler throughput and decision latency over simulated fleets of 10, 100, 1000 hosts.

    python bench/schedule.py [--hosts 10,100,1000] [--requests 500]

For each fleet size: a fresh database (the PostgreSQL on 127.0.0.1:5432, or set
BENCH_DATABASE_SERVER) and a fresh nats-server run with nats.conf; the relay, conductor
and projector run in this process, and so do all the compute agents (each its own host,
on the in-memory hypervisor, each with its own JetStream consumer and heartbeat). Then
``--requests`` servers are requested at once and one scheduler places them. A decision is
one call of the real ``scheduling.schedule`` (load the instance, read the host projection,
filter, weigh, claim on the Host aggregate, record the placement); its wall time is the
decision latency. Prints one JSON line per fleet size.
"""

import argparse
import asyncio
import json
import os
import statistics
import tempfile
import time
import uuid
from pathlib import Path

import psycopg

from cloud.adapters import bus
from cloud.adapters.embedded import EmbeddedNats, free_port
from cloud.adapters.eventstore import EventStore
from cloud.adapters.memory_hypervisor import MemoryHypervisor
from cloud.agents import conductor, relay
from cloud.agents.compute import ComputeAgent
from cloud.domain.envelope import Actor, Context
from cloud.domain.events import FlavorSpec
from cloud.manage import db_sync, streams_sync
from cloud.projections import projector
from cloud.projections.queries import ReadModels
from cloud.services import instances, quotas, scheduling
from cloud.services.catalog import DEFAULT_IMAGE_ID
from cloud.services.host_fleet import HostFleet
from cloud.up import NATS_CONF, new_passwords, password_env
from cloud.util import utcnow

SERVER = os.environ.get("BENCH_DATABASE_SERVER", "postgresql://postgres@127.0.0.1:5432/postgres")
FLAVOR = FlavorSpec(flavorid="b", name="bench", vcpus=1, ram=256, disk=1)
UNLIMITED = {"instances": -1, "cores": -1, "ram": -1}


def fresh_database() -> tuple[str, str]:
    name = f"cloud_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(SERVER, autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    url = SERVER.rsplit("/", 1)[0] + f"/{name}"
    db_sync(url)
    return name, url


async def start_fleet(url: str, nats_url: str, pw: dict, hosts: int, stop: asyncio.Event):
    """Relay, conductor and ``hosts`` compute agents, all in this event loop."""
    store = EventStore(url, pool_size=8)
    admin = await bus.connect(nats_url, user="admin", password=pw["admin"])
    js = admin.jetstream()
    from psycopg_pool import ConnectionPool
    pool = ConnectionPool(url, min_size=1, max_size=8, kwargs={"autocommit": True})
    runtimes = [relay.Relay(store, js, url), conductor.runtime(js, store, pool)]
    compute = await bus.connect(nats_url, user="compute", password=pw["compute"])
    for n in range(hosts):
        agent = ComputeAgent(compute.jetstream(), MemoryHypervisor(f"sim{n}"), f"sim{n}")
        await agent.start()
        asyncio.get_running_loop().create_task(agent.heartbeat(stop))
        runtimes.append(agent.runtime(concurrency=2))
    tasks = [asyncio.create_task(rt.run()) for rt in runtimes]
    return runtimes, tasks, [admin, compute], pool


def wait_hosts(read_models: ReadModels, hosts: int, timeout: float = 300) -> None:
    deadline = time.monotonic() + timeout
    while sum(1 for h in read_models.hosts() if h["last_seen_at"]) < hosts:
        if time.monotonic() > deadline:
            raise TimeoutError("hosts did not register")
        time.sleep(0.5)


def decide_all(url: str, ids: list[str]) -> list[float]:
    """Run the real scheduling decision for each request, timing each."""
    store, read_models = EventStore(url, pool_size=2), ReadModels(url)
    context = Context(request_id="req-bench", actor=Actor(agent="scheduler"),
                      timestamp=utcnow())
    fleet = HostFleet(read_models)  # as the scheduler agent keeps one per process
    latencies = []
    for instance_id in ids:
        started = time.perf_counter()
        assert scheduling.schedule(store, read_models, instance_id, context=context,
                                   fleet=fleet)
        latencies.append(time.perf_counter() - started)
    read_models.close()
    return latencies


async def run_one(hosts: int, requests: int) -> dict:
    name, url = fresh_database()
    pw = new_passwords()
    with tempfile.TemporaryDirectory() as tmp:
        nats = EmbeddedNats(NATS_CONF, Path(tmp) / "nats", port=free_port(),
                            env=password_env(pw))
        nats_url = nats.start()
        await streams_sync(nats_url, user="admin", password=pw["admin"])
        stop = asyncio.Event()
        projecting = projector.in_background(url)
        projecting.__enter__()
        started = time.perf_counter()
        runtimes, tasks, conns, pool = await start_fleet(url, nats_url, pw, hosts, stop)
        read_models = ReadModels(url)
        await asyncio.to_thread(wait_hosts, read_models, hosts)
        fleet_ready = time.perf_counter() - started
        store = EventStore(url, pool_size=2)
        context = Context(request_id="req-bench", actor=Actor(user_id="u", project_id="p"),
                          timestamp=utcnow())
        quotas.update_limits(store, "p", UNLIMITED, force=True, context=context)
        ids = [instances.create(store, name=f"b{n}", flavor=FLAVOR, image_ref=DEFAULT_IMAGE_ID,
                                context=context)[0] for n in range(requests)]
        read_models.wait_for(store.head(), timeout=60)
        t0 = time.perf_counter()
        latencies = await asyncio.to_thread(decide_all, url, ids)
        elapsed = time.perf_counter() - t0
        stop.set()
        for rt in runtimes:
            rt.stop()
        await asyncio.gather(*tasks, return_exceptions=True)
        for conn in conns:
            await conn.close()
        projecting.__exit__(None, None, None)
        pool.close()
        read_models.close()
        store.close()
        nats.stop()
    with psycopg.connect(SERVER, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE {name} WITH (FORCE)")
    ordered = sorted(latencies)
    return {"hosts": hosts, "decisions": requests, "fleet_ready_s": round(fleet_ready, 1),
            "decisions_per_s": round(requests / elapsed, 1),
            "latency_p50_ms": round(statistics.median(ordered) * 1000, 2),
            "latency_p99_ms": round(ordered[int(0.99 * (len(ordered) - 1))] * 1000, 2)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hosts", default="10,100,1000")
    parser.add_argument("--requests", type=int, default=500)
    args = parser.parse_args()
    for hosts in (int(h) for h in args.hosts.split(",")):
        print(json.dumps(asyncio.run(run_one(hosts, args.requests))), flush=True)


if __name__ == "__main__":
    main()
