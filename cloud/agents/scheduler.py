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
from cloud.projections.queries import ReadModels
from cloud.services import scheduling
from cloud.util import utcnow


def handler(store: EventStore, read_models: ReadModels):
    """Decode a request and place it (in a thread: the store is synchronous)."""
    async def handle(msg: Msg) -> None:
        requested = envelope.decode(msg.data)
        context = Context(request_id=requested.request_id, actor=Actor(agent="scheduler"),
                          timestamp=utcnow())
        await asyncio.to_thread(scheduling.schedule, store, read_models, requested.id,
                                context=context)
    return handle


def runtime(js, store: EventStore, read_models: ReadModels, *, concurrency: int = 8) -> Runtime:
    return Runtime(js, stream=bus.EVENTS_STREAM, durable=bus.SCHEDULER_CONSUMER,
                   handler=handler(store, read_models), key_of=subject_key(3),
                   concurrency=concurrency)
