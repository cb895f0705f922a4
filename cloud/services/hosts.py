"""Host use cases: registration and resource claims, with optimistic concurrency.

A host is a hot aggregate: every claim and release of its instances is a new version.
Writers in one process take turns per host (a lock), so version conflicts only happen
between processes, and those are retried with a little jitter.
"""

import random
import threading
import time
from collections import defaultdict

from cloud.adapters.eventstore import Batch, EventStore
from cloud.domain import host, ids
from cloud.domain.envelope import Context
from cloud.domain.errors import Conflict
from cloud.domain.events import Event
from cloud.services.repository import load_host

ATTEMPTS = 30
_turns: defaultdict[str, threading.Lock] = defaultdict(threading.Lock)


def _decide_and_save(store: EventStore, name: str, context: Context, decide) -> list[Event]:
    """Load, decide, save; on a conflict load again and decide again."""
    with _turns[name]:
        for attempt in range(ATTEMPTS):
            current, version = load_host(store, name)
            events = decide(current)
            try:
                store.append(Batch(ids.host_stream(name), name, version, events),
                             context=context)
                return events
            except Conflict:
                time.sleep(random.uniform(0, 0.002 * (attempt + 1)))
    raise Conflict(f"host {name} stayed contended for {ATTEMPTS} attempts")


def register(store: EventStore, name: str, *, context: Context, **capacity: object) -> list[Event]:
    """Record a host's capacity as read from its hypervisor (nothing if unchanged)."""
    return _decide_and_save(store, name, context,
                            lambda current: host.register(current, **capacity))


def claim(store: EventStore, name: str, *, instance_id: str, resources: host.Claim,
          ratios: host.Ratios | None, context: Context, kind: str = "") -> list[Event]:
    """Claim resources on a host. Raises HostFull when it has no room."""
    return _decide_and_save(store, name, context, lambda current: host.claim(
        current, instance_id=instance_id, resources=resources, ratios=ratios, kind=kind))


def release(store: EventStore, name: str, *, instance_id: str, context: Context,
            kind: str | None = None) -> list[Event]:
    """Give back an instance's claims, or only its claim of ``kind`` (nothing if none)."""
    return _decide_and_save(store, name, context, lambda current: host.release(
        current, instance_id=instance_id, kind=kind))


def confirm_resize(store: EventStore, name: str, *, instance_id: str,
                   context: Context) -> list[Event]:
    """The resized flavor's claim replaces the instance's old one."""
    return _decide_and_save(store, name, context, lambda current: host.confirm_resize(
        current, instance_id=instance_id))
