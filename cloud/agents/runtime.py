"""The one runtime every subscriber shares.

Fetch from a durable pull consumer, decode, handle messages for the same key (an
instance) one at a time and different keys in parallel up to a bound, keep long
handlers alive with ``in_progress``, and turn the outcome into ack / nak / term. On
stop, work still unfinished after a short grace is handed back (nak) for the next agent
to take up at once, not when its ack deadline passes.
"""

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable
from typing import Any

from nats.aio.msg import Msg
from nats.errors import TimeoutError as NatsTimeout
from nats.js import JetStreamContext

from cloud.domain.errors import Conflict

log = logging.getLogger(__name__)


class Retry(Exception):
    """Try this message again after ``delay`` seconds."""

    def __init__(self, reason: str, *, delay: float = 1.0) -> None:
        super().__init__(reason)
        self.delay = delay


class Drop(Exception):
    """This message can never succeed: stop redelivering it."""


Handler = Callable[[Msg], Awaitable[None]]
# Seconds running work gets to finish on stop: under the 15 s ``cloud up`` waits before
# it kills a child (every handler is idempotent, so work cut short is simply redone).
STOP_GRACE = 10.0
KeyOf = Callable[[Msg], str]


def subject_key(position: int) -> KeyOf:
    """Serialise on one token of the subject (e.g. the instance id)."""
    return lambda msg: msg.subject.split(".")[position]


class Runtime:
    """Runs one handler over one durable consumer until stopped."""

    def __init__(self, js: JetStreamContext, *, stream: str, durable: str, handler: Handler,
                 key_of: KeyOf, concurrency: int = 16, batch: int = 64,
                 grace: float = STOP_GRACE) -> None:
        self.js, self.stream, self.durable = js, stream, durable
        self.handler, self.key_of = handler, key_of
        self.grace = grace
        self.slots = asyncio.Semaphore(concurrency)
        self.batch = batch
        self.locks: dict[str, asyncio.Lock] = {}
        self.tasks: dict[asyncio.Task[Any], Msg] = {}
        self.stopping = asyncio.Event()

    async def run(self) -> None:
        """Fetch and dispatch until ``stop`` is called; then give running work ``grace``
        seconds to finish, and hand back what has not: messages being handled and those
        waiting behind another of their key."""
        sub = await self.js.pull_subscribe_bind(self.durable, stream=self.stream)
        while not self.stopping.is_set():
            try:
                messages = await sub.fetch(self.batch, timeout=1.0)
            except (NatsTimeout, TimeoutError):
                continue
            for msg in messages:
                await self.slots.acquire()
                task = asyncio.create_task(self._one(msg))
                self.tasks[task] = msg
                task.add_done_callback(self._forget)
        if self.tasks:
            _, unfinished = await asyncio.wait(self.tasks, timeout=self.grace)
            messages = [self.tasks[task] for task in unfinished]
            for task in unfinished:
                task.cancel()
            await asyncio.gather(*unfinished, return_exceptions=True)
            # In the order they came: one key's messages come back in their order.
            for msg in sorted(messages, key=lambda m: m.metadata.sequence.stream):
                await _hand_back(msg)

    def _forget(self, task: asyncio.Task[Any]) -> None:
        self.tasks.pop(task, None)

    def stop(self) -> None:
        self.stopping.set()

    async def _one(self, msg: Msg) -> None:
        key = self.key_of(msg)
        lock = self.locks.setdefault(key, asyncio.Lock())
        try:
            async with lock:
                await self._settle(msg)
        finally:
            if not lock.locked() and not lock._waiters:  # type: ignore[attr-defined]
                self.locks.pop(key, None)
            self.slots.release()

    async def _settle(self, msg: Msg) -> None:
        keepalive = asyncio.create_task(_keep_alive(msg))
        try:
            await self.handler(msg)
        except Retry as retry:
            log.info("retrying %s in %.1fs: %s", msg.subject, retry.delay, retry)
            await msg.nak(delay=retry.delay)
        except Conflict as conflict:
            # Lost a race on an aggregate's version: decide again soon, on fresh state.
            log.info("conflict on %s: %s", msg.subject, conflict)
            await msg.nak(delay=random.uniform(0.05, 0.5))
        except Drop as drop:
            log.error("dropping %s: %s", msg.subject, drop)
            await msg.term()
        except Exception:
            log.exception("handler failed on %s; will be redelivered", msg.subject)
            await msg.nak(delay=2.0)
        else:
            await msg.ack()
        finally:
            keepalive.cancel()


async def _hand_back(msg: Msg) -> None:
    """Redeliver now (to this consumer's next fetch, here or in another agent)."""
    try:
        await msg.nak()
    except Exception:  # the connection is gone: the ack deadline will redeliver it
        log.warning("could not hand back %s; redelivered after its ack deadline",
                    msg.subject, exc_info=True)
    else:
        log.info("handed back unfinished %s", msg.subject)


async def _keep_alive(msg: Msg, every: float = 10.0) -> None:
    # Long libvirt work must not let the ack deadline pass and cause a redelivery.
    while True:
        await asyncio.sleep(every)
        await msg.in_progress()
