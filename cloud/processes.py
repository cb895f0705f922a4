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
from cloud.agents import conductor, heartbeat, relay, scheduler
from cloud.agents.compute import ComputeAgent
from cloud.domain.service import CONDUCTOR, SCHEDULER
from cloud.projections import projector
from cloud.projections.queries import ReadModels
from cloud.services import compute_services
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
    """Close once what was published (acks, naks, reports) has reached the server."""
    try:
        await nc.flush(timeout=2)
    except Exception:
        log.warning("closing the NATS connection before everything was flushed")
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
    beater = asyncio.create_task(heartbeat.beat_forever(
        read_models.pool, stop, host=compute_services.this_host(), binary=SCHEDULER))
    await _until_stopped(stop, scheduler.runtime(nc.jetstream(), store, read_models,
                                                 config=config))
    stop.set()
    await beater
    await _close(nc)


async def run_conductor(settings: Settings) -> None:
    stop = asyncio.Event()
    _stop_on_signals(stop)
    nc = await _connect(settings, "cloud-conductor")
    store = EventStore(settings.database_url)
    pool = ConnectionPool(settings.database_url, min_size=1, max_size=8,
                          kwargs={"autocommit": True})
    sweeper = asyncio.create_task(conductor.sweep_forever(store, pool, stop))
    beater = asyncio.create_task(heartbeat.beat_forever(
        pool, stop, host=compute_services.this_host(), binary=CONDUCTOR))
    await _until_stopped(stop, conductor.runtime(nc.jetstream(), store, pool))
    stop.set()
    await sweeper
    await beater
    await _close(nc)


def run_projector(settings: Settings) -> None:
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    projector.run(settings.database_url, stop)


def _image_fetcher(image_api: str | None):
    """Guests get disks from the image API when one is given (real QEMU hosts); the
    test driver's guests are diskless and need none."""
    if not image_api:
        return None
    from cloud.adapters.image_sources import HttpImages
    from cloud.adapters.service_token import ServiceToken
    return HttpImages(image_api, ServiceToken.from_env(os.environ))


async def run_compute(settings: Settings, *, host: str, libvirt_uri: str,
                      instances_path: Path, image_api: str | None = None) -> None:
    from cloud.adapters.libvirt_driver import LibvirtDriver

    stop = asyncio.Event()
    _stop_on_signals(stop)
    fetch_image = _image_fetcher(image_api)
    nc = await _connect(settings, f"cloud-compute-{host}")
    driver = LibvirtDriver(libvirt_uri, instances_path=instances_path, hostname=host,
                           fetch_image=fetch_image)
    agent = ComputeAgent(nc.jetstream(), driver, host,
                         allocation_ratios=settings.allocation_ratios)
    await agent.start()
    await agent.serve_console(nc)
    beat = asyncio.create_task(agent.heartbeat(stop))
    sync = asyncio.create_task(agent.sync_power(stop, every=settings.power_sync_every))
    prune = asyncio.create_task(agent.prune_images(
        stop, every=settings.image_cache_every, unused_for=settings.unused_image_age))
    await _until_stopped(stop, agent.runtime())
    await asyncio.gather(beat, sync, prune)
    await _close(nc)
    driver.close()
