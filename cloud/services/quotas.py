"""Quota use cases: a project's limits, and the usage saved together with the instance
events that change it.

A project's usage is a hot aggregate, like a host: writers in one process take turns per
project (a lock), so version conflicts only happen between processes, and those are
decided again after a little jitter.
"""

import random
import threading
import time
from collections import defaultdict
from collections.abc import Callable

from cloud.adapters.eventstore import Batch, EventStore
from cloud.domain import ids, quota
from cloud.domain.envelope import Context
from cloud.domain.errors import Conflict
from cloud.domain.events import Event

ATTEMPTS = 30
_turns: defaultdict[str, threading.Lock] = defaultdict(threading.Lock)

# Given the project's usage: the usage events, and the other batches to save with them.
UsageDecision = Callable[[quota.ProjectUsage], tuple[list[Event], list[Batch]]]


def load_quota_set(store: EventStore, project_id: str) -> tuple[quota.QuotaSet, int]:
    """The project's limits and their version (defaults at version 0)."""
    state, version = quota.QuotaSet(project_id=project_id), 0
    for envelope in store.load(ids.quota_set_stream(project_id)):
        state = quota.evolve_quota_set(state, project_id, envelope.data)
        version = envelope.version
    return state, version


def load_usage(store: EventStore, project_id: str) -> tuple[quota.ProjectUsage, int]:
    """The project's usage and its version; folded states are kept, as for hosts."""
    stream = ids.usage_stream(project_id)
    state, version = store.folded.get(stream, (quota.ProjectUsage(project_id=project_id), 0))
    for envelope in store.load(stream, after_version=version):
        state = quota.evolve_usage(state, project_id, envelope.data)
        version = envelope.version
    store.folded[stream] = (state, version)
    return state, version


def save_with_usage(store: EventStore, project_id: str, decide: UsageDecision, *,
                    context: Context) -> list[int]:
    """Save what ``decide`` returns for the current usage in one transaction, expecting
    the usage stream's version; on a conflict load everything again and decide again."""
    with _turns[project_id]:
        for attempt in range(ATTEMPTS):
            usage, version = load_usage(store, project_id)
            usage_events, batches = decide(usage)
            usage_batch = Batch(ids.usage_stream(project_id), project_id, version,
                                usage_events)
            try:
                return store.append(*batches, usage_batch, context=context)
            except Conflict:
                time.sleep(random.uniform(0, 0.002 * (attempt + 1)))
    raise Conflict(f"usage of project {project_id} stayed contended for {ATTEMPTS} attempts")


def update_limits(store: EventStore, project_id: str, changes: dict[str, int], *,
                  force: bool, context: Context) -> list[int]:
    """Set some of a project's limits (refused below what is in use unless forced)."""
    current, version = load_quota_set(store, project_id)
    usage, _ = load_usage(store, project_id)
    events = quota.update(current, changes, in_use=usage.in_use(), force=force)
    return store.append(Batch(ids.quota_set_stream(project_id), project_id, version, events),
                        context=context)


def reset_limits(store: EventStore, project_id: str, *, context: Context) -> list[int]:
    """Every limit of the project back to its default."""
    current, version = load_quota_set(store, project_id)
    return store.append(Batch(ids.quota_set_stream(project_id), project_id, version,
                              quota.reset(current)), context=context)
