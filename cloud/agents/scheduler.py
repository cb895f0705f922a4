"""The scheduler agent: takes InstanceRequested from the shared consumer and places it.

Replicas bind to the same durable consumer, so each request goes to one of them; a
replica that dies mid-decision leaves its message unacked and another takes it.
"""

import asyncio

from nats.aio.msg import Msg

from cloud.adapters import bus
from cloud.adapters.eventstore import EventStore
from cloud.agents.runtime import Runtime, subject_key
from cloud.domain import envelope
from cloud.domain.envelope import Actor, Context
from cloud.domain.placement import SchedulerConfig
from cloud.domain.placement.filters import FILTERS
from cloud.projections.queries import ReadModels
from cloud.services import compute_services, scheduling
from cloud.services.host_fleet import HostFleet
from cloud.util import utcnow


def config_from_env(env: dict[str, str]) -> SchedulerConfig:
    """``CLOUD_SCHEDULER_FILTERS=Compute,RAM,…`` (enabled set, in order) and
    ``CLOUD_SCHEDULER_WEIGHERS=RAM=-1,CPU=-1`` (multipliers; negative packs)."""
    config = SchedulerConfig()
    filters = tuple(f.strip() for f in env.get("CLOUD_SCHEDULER_FILTERS", "").split(",")
                    if f.strip())
    unknown = [f for f in filters if f not in FILTERS]
    if unknown:
        raise SystemExit(f"unknown scheduler filters: {', '.join(unknown)}")
    multipliers = dict(config.multipliers)
    for item in env.get("CLOUD_SCHEDULER_WEIGHERS", "").split(","):
        if "=" in item:
            name, value = item.split("=", 1)
            multipliers[name.strip()] = float(value)
    return SchedulerConfig(filters=filters or config.filters, multipliers=multipliers)


def handler(store: EventStore, read_models: ReadModels,
            config: SchedulerConfig = SchedulerConfig()):
    """Decode a request and place it (in a thread: the store is synchronous). The
    process's picture of the fleet is kept across requests (host_fleet.py)."""
    fleet = HostFleet(read_models, down_time=compute_services.down_time())

    async def handle(msg: Msg) -> None:
        requested = envelope.decode(msg.data)
        context = Context(request_id=requested.request_id, actor=Actor(agent="scheduler"),
                          timestamp=utcnow())
        await asyncio.to_thread(scheduling.schedule, store, read_models, requested.id,
                                context=context, config=config, fleet=fleet)
    return handle


def runtime(js, store: EventStore, read_models: ReadModels, *, concurrency: int = 8,
            config: SchedulerConfig = SchedulerConfig()) -> Runtime:
    return Runtime(js, stream=bus.EVENTS_STREAM, durable=bus.SCHEDULER_CONSUMER,
                   handler=handler(store, read_models, config), key_of=subject_key(3),
                   concurrency=concurrency)
