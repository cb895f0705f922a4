"""The compute agent of one host: turns its host's events into libvirt work.

It holds no database credentials. Events arrive on ``cloud.host.<host>.>``; what it did
goes back as reports on ``cloud.reports.<host>.<kind>`` for the conductor to record.
"""

import asyncio
import logging
from collections.abc import Awaitable, Callable

import msgspec
import nats.js.errors
from nats.aio.client import Client
from nats.aio.msg import Msg
from nats.aio.subscription import Subscription
from nats.js import JetStreamContext

from cloud.adapters import bus
from cloud.agents import console, reports
from cloud.agents.compute_actions import CALLS
from cloud.agents.hypervisor import GuestSpec, Hypervisor
from cloud.agents.runtime import Runtime, subject_key
from cloud.domain import envelope, lifecycle
from cloud.domain.envelope import Envelope
from cloud.domain.events import (
    AggregateImagesCacheRequested,
    InstanceActionRequested,
    InstanceDeleteRequested,
    InstanceRebuildRequested,
    InstanceScheduled,
)

log = logging.getLogger(__name__)
HEARTBEAT_EVERY = 10.0
POWER_SYNC_EVERY = 30.0


class ComputeAgent:
    def __init__(self, js: JetStreamContext, hypervisor: Hypervisor, host: str, *,
                 allocation_ratios: dict[str, float] | None = None) -> None:
        self.js, self.hypervisor, self.host = js, hypervisor, host
        # The operator's ratios for this host, registered with its capacity.
        self.allocation_ratios = dict(allocation_ratios or {})
        # The newest version handled per instance: a late redelivery of an older event
        # (a spawn after its delete) must not bring a guest back.
        self.handled: dict[str, int] = {}

    async def report(self, report: reports.Report, *, dedupe: str | None = None) -> None:
        headers = {"Nats-Msg-Id": dedupe} if dedupe else None
        await self.js.publish(bus.report_subject(self.host, reports.kind(report)),
                              reports.encode(report), stream=bus.REPORTS_STREAM,
                              headers=headers)

    async def start(self) -> None:
        """Make sure our consumer exists, then register our capacity."""
        try:
            await self.js.add_consumer(bus.HOSTS_STREAM, bus.compute_consumer(self.host))
        except nats.js.errors.BadRequestError:
            pass  # exists already with this configuration
        capacity = await asyncio.to_thread(self.hypervisor.capacity)
        await self.report(reports.Registered(host=self.host, **msgspec.structs.asdict(capacity),
                                             **self.allocation_ratios))

    async def heartbeat(self, stop: asyncio.Event) -> None:
        await _periodically(stop, HEARTBEAT_EVERY, "heartbeat", lambda: self.report(
            reports.Heartbeat(host=self.host)))

    async def sync_power(self, stop: asyncio.Event, *, every: float = POWER_SYNC_EVERY) -> None:
        """Level-triggered: report every guest's power state; the conductor records what
        differs from the log (a guest that shut itself down becomes SHUTOFF)."""
        async def sync() -> None:
            guests = await asyncio.to_thread(self.hypervisor.list_guests)
            await self.report(reports.PowerStates(host=self.host, guests=guests))
        await _periodically(stop, every, "power state sync", sync)

    async def prune_images(self, stop: asyncio.Event, *, every: float,
                           unused_for: float) -> None:
        """Every ``every`` seconds, remove cached base images no guest here has used for
        ``unused_for`` seconds (defaults: Settings)."""
        async def prune() -> None:
            removed = await asyncio.to_thread(self.hypervisor.prune_images,
                                              unused_for=unused_for)
            if removed:
                log.info("removed unused base images: %s", ", ".join(removed))
        await _periodically(stop, every, "image cache prune", prune)

    async def serve_console(self, nc: Client) -> Subscription:
        """Answer the API's console-log requests for this host's guests (core NATS
        request/reply on ``cloud.rpc.<host>.console``: a read, nothing to record)."""
        async def reply(msg: Msg) -> None:
            await msg.respond(await asyncio.to_thread(console.answer, self.hypervisor,
                                                      msg.data))
        return await nc.subscribe(bus.console_subject(self.host), queue="compute", cb=reply)

    async def handle(self, msg: Msg) -> None:
        event = envelope.decode(msg.data)
        if self.handled.get(event.id, 0) > event.version:
            return
        if isinstance(event.data, InstanceScheduled):
            await self._spawn(event)
        elif isinstance(event.data, InstanceDeleteRequested):
            await self._destroy(event)
        elif isinstance(event.data, InstanceActionRequested):
            await self._act(event)
        elif isinstance(event.data, AggregateImagesCacheRequested):
            await self._precache(event.data.image_ids)
        self.handled[event.id] = event.version

    async def _act(self, event: Envelope) -> None:
        """Carry out a user's action on the guest and report the outcome."""
        call, done = CALLS[type(event.data)]  # type: ignore[index]
        dedupe = f"{self.host}:{event.id}:{event.version}"
        try:
            power_state = await asyncio.to_thread(call, self.hypervisor, event)
        except Exception as error:
            log.exception("%s of %s failed", type(event.data).__name__, event.id)
            task_state = lifecycle.task_of(event.data)  # type: ignore[arg-type]
            action = lifecycle.action_of_task(task_state)
            await self.report(reports.ActionFailed(
                host=self.host, request_id=event.request_id, instance_id=event.id,
                task_state=task_state,
                message=f"Could not {action.name if action else task_state} the server"
                        f" on {self.host}: {error}"),
                dedupe=f"{dedupe}:action_failed")
            return
        image_ref = (event.data.image_ref if isinstance(event.data, InstanceRebuildRequested)
                     else None)
        await self.report(reports.ActionDone(
            host=self.host, request_id=event.request_id, instance_id=event.id,
            event=done.__name__, power_state=power_state, image_ref=image_ref),
            dedupe=f"{dedupe}:action_done")

    async def _precache(self, image_ids: list[str]) -> None:
        """Fetch images into this host's base image cache (2.81), so that the first boot
        of each does not wait for its download. A failure is logged; the request is not
        retried, as in Nova: the image is fetched again at its first boot."""
        cached = await asyncio.to_thread(self.hypervisor.precache_images, image_ids)
        log.info("precached %d of %d images: %s", len(cached), len(image_ids),
                 ", ".join(cached) or "none")

    async def _spawn(self, event: Envelope) -> None:
        scheduled: InstanceScheduled = event.data  # type: ignore[assignment]
        flavor = scheduled.flavor
        guest = GuestSpec(instance_id=event.id, name=scheduled.name, vcpus=flavor.vcpus,
                          memory_mb=flavor.ram, disk_gb=flavor.disk,
                          image_ref=scheduled.image_ref)
        try:
            power_state = await asyncio.to_thread(self.hypervisor.spawn, guest)
        except Exception as error:
            log.exception("spawn of %s failed", event.id)
            await self.report(reports.SpawnFailed(
                host=self.host, request_id=event.request_id, instance_id=event.id,
                message=f"Spawn failed on {self.host}: {error}"),
                dedupe=f"{self.host}:{event.id}:{event.version}:spawn_failed")
            return
        await self.report(reports.Spawned(
            host=self.host, request_id=event.request_id, instance_id=event.id,
            power_state=power_state), dedupe=f"{self.host}:{event.id}:{event.version}:spawned")

    async def _destroy(self, event: Envelope) -> None:
        await asyncio.to_thread(self.hypervisor.destroy, event.id)
        await self.report(reports.Deleted(host=self.host, request_id=event.request_id,
                                          instance_id=event.id),
                          dedupe=f"{self.host}:{event.id}:{event.version}:deleted")

    def runtime(self, *, concurrency: int = 8) -> Runtime:
        return Runtime(self.js, stream=bus.HOSTS_STREAM,
                       durable=bus.compute_consumer(self.host).durable_name,
                       handler=self.handle, key_of=subject_key(4), concurrency=concurrency)


async def _periodically(stop: asyncio.Event, every: float, what: str,
                        work: Callable[[], Awaitable[None]]) -> None:
    """Run ``work`` now and then every ``every`` seconds until ``stop``; a failed run is
    logged and the next one comes as planned."""
    while not stop.is_set():
        try:
            await work()
        except Exception:
            log.exception("%s failed", what)
        try:
            await asyncio.wait_for(stop.wait(), timeout=every)
        except TimeoutError:
            pass
