"""The long-running processes, one async main each; the CLI only picks one."""

import asyncio
import logging
import os
import signal
import threading
from pathlib import Path

from psycopg_pool import ConnectionPool

from cloud.adapters import bus
from cloud.adapters.eventstore import EventStore
from cloud.agents import conductor, relay, scheduler
from cloud.agents.compute import ComputeAgent
from cloud.projections import projector
from cloud.projections.queries import ReadModels
from cloud.settings import Settings

log = logging.getLogger(__name__)


def _stop_on_signals(stop: asyncio.Event) -> None:
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)


async def _connect(settings: Settings, name: str):
    return await bus.connect(settings.nats_url, user=settings.nats_user,
                             password=settings.nats_password, name=name)


async def _until_stopped(stop: asyncio.Event, *runtimes) -> None:
    tasks = [asyncio.create_task(rt.run()) for rt in runtimes]
    stopped = asyncio.create_task(stop.wait())
    done, _ = await asyncio.wait([stopped, *tasks], return_when=asyncio.FIRST_COMPLETED)
    for rt in runtimes:
        rt.stop()
    results = await asyncio.gather(*tasks, return_exceptions=True)
    for result in results:
        if isinstance(result, BaseException):
            raise result  # a runtime that died ends the process; the supervisor restarts it


async def _close(nc) -> None:
    try:
        await _close(nc)
    except Exception:
        await nc.close()


async def run_relay(settings: Settings) -> None:
    stop = asyncio.Event()
    _stop_on_signals(stop)
    nc = await _connect(settings, "cloud-relay")
    store = EventStore(settings.database_url, pool_size=2)
    await _until_stopped(stop, relay.Relay(store, nc.jetstream(), settings.database_url))
    await _close(nc)


async def run_scheduler(settings: Settings) -> None:
    stop = asyncio.Event()
    _stop_on_signals(stop)
    nc = await _connect(settings, "cloud-scheduler")
    store, read_models = EventStore(settings.database_url), ReadModels(settings.database_url)
    config = scheduler.config_from_env(dict(os.environ))
    await _until_stopped(stop, scheduler.runtime(nc.jetstream(), store, read_models,
                                                 config=config))
    await _close(nc)


async def run_conductor(settings: Settings) -> None:
    stop = asyncio.Event()
    _stop_on_signals(stop)
    nc = await _connect(settings, "cloud-conductor")
    store = EventStore(settings.database_url)
    pool = ConnectionPool(settings.database_url, min_size=1, max_size=8,
                          kwargs={"autocommit": True})
    sweeper = asyncio.create_task(conductor.sweep_forever(store, pool, stop))
    await _until_stopped(stop, conductor.runtime(nc.jetstream(), store, pool))
    await sweeper
    await _close(nc)


def run_projector(settings: Settings) -> None:
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    projector.run(settings.database_url, stop)


async def run_compute(settings: Settings, *, host: str, libvirt_uri: str,
                      instances_path: Path) -> None:
    from cloud.adapters.libvirt_driver import LibvirtDriver

    stop = asyncio.Event()
    _stop_on_signals(stop)
    nc = await _connect(settings, f"cloud-compute-{host}")
    driver = LibvirtDriver(libvirt_uri, instances_path=instances_path, hostname=host)
    agent = ComputeAgent(nc.jetstream(), driver, host)
    await agent.start()
    beat = asyncio.create_task(agent.heartbeat(stop))
    await _until_stopped(stop, agent.runtime())
    await beat
    await _close(nc)
    driver.close()
