"""Host use cases: registration and resource claims, with optimistic concurrency."""

from cloud.adapters.eventstore import Batch, EventStore
from cloud.domain import host, ids
from cloud.domain.envelope import Context
from cloud.domain.errors import Conflict
from cloud.services.repository import load_host

CLAIM_ATTEMPTS = 5


def register(store: EventStore, name: str, *, context: Context, **capacity: object) -> list[int]:
    """Record a host's capacity as read from its hypervisor (nothing if unchanged)."""
    current, version = load_host(store, name)
    events = host.register(current, **capacity)  # type: ignore[arg-type]
    return store.append(Batch(ids.host_stream(name), name, version, events), context=context)


def claim(store: EventStore, name: str, *, instance_id: str, resources: host.Claim,
          ratios: host.Ratios, context: Context) -> None:
    """Claim resources on a host; re-reads and re-decides when another writer won.

    Raises HostFull when the host has no room, Conflict when it stays contended.
    """
    for _ in range(CLAIM_ATTEMPTS):
        current, version = load_host(store, name)
        events = host.claim(current, instance_id=instance_id, resources=resources,
                            ratios=ratios)
        try:
            store.append(Batch(ids.host_stream(name), name, version, events), context=context)
            return
        except Conflict:
            continue
    raise Conflict(f"host {name} stayed contended for {CLAIM_ATTEMPTS} attempts")


def release(store: EventStore, name: str, *, instance_id: str, context: Context) -> None:
    """Give back a claim (retrying on concurrent writes)."""
    for _ in range(CLAIM_ATTEMPTS):
        current, version = load_host(store, name)
        events = host.release(current, instance_id=instance_id)
        try:
            store.append(Batch(ids.host_stream(name), name, version, events), context=context)
            return
        except Conflict:
            continue
    raise Conflict(f"host {name} stayed contended for {CLAIM_ATTEMPTS} attempts")
