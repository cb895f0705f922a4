"""Host aggregate use cases: load, decide, save. A name is claimed (or released) on its
index stream in the same transaction as the aggregate's events.

Rules across aggregates (a host is in one zone) are decided on the zones the read
models show (``AggregateQueries``), as Nova decides them on its database: advisory.
"""

import uuid
from collections.abc import Callable

import msgspec

from cloud.adapters.eventstore import Batch, EventStore
from cloud.domain import aggregate, ids
from cloud.domain.aggregate import NAME_KIND, HostAggregate
from cloud.domain.envelope import Context
from cloud.domain.errors import Conflict, NotFound
from cloud.domain.events import Event
from cloud.projections.aggregate_queries import AggregateQueries
from cloud.services.identity import load_index
from cloud.services.repository import load_host


def load_aggregate(store: EventStore, aggregate_uuid: str) -> tuple[HostAggregate | None, int]:
    """The aggregate and its version (0 if it never existed)."""
    state, version = None, 0
    for envelope in store.load(uuid.UUID(aggregate_uuid)):
        state = aggregate.evolve(state, aggregate_uuid, envelope.data)
        version = envelope.version
    return state, version


def _name_batch(store: EventStore, name: str, *, owner_id: str, release: bool) -> Batch:
    index, version = load_index(store, NAME_KIND, "", name)
    events = (aggregate.release_name(index, owner_id=owner_id) if release else
              aggregate.claim_name(index, name=name, owner_id=owner_id))
    stream = ids.name_stream(NAME_KIND, "", name)
    return Batch(stream, str(stream), version, events)


def _batch(aggregate_uuid: str, version: int, events: list[Event]) -> Batch:
    return Batch(uuid.UUID(aggregate_uuid), aggregate_uuid, version, events)


def create(store: EventStore, *, name: str, availability_zone: str | None,
           context: Context) -> tuple[str, list[int]]:
    """A new aggregate; raises AggregateNameExists. Returns its uuid and positions."""
    aggregate_uuid = str(uuid.uuid4())
    events = aggregate.create(None, name=name, availability_zone=availability_zone)
    claim = _name_batch(store, name, owner_id=aggregate_uuid, release=False)
    try:
        positions = store.append(_batch(aggregate_uuid, 0, events), claim, context=context)
    except Conflict:
        # Someone claimed the name meanwhile: decided again, the claim is refused.
        _name_batch(store, name, owner_id=aggregate_uuid, release=False)
        raise
    return aggregate_uuid, positions


Decide = Callable[[HostAggregate | None], list[Event]]


def _change(store: EventStore, aggregate_uuid: str, decide: Decide, context: Context,
            *, renamed_from: str | None = None) -> list[int]:
    """Load, decide, save (with the name index when the decision renames)."""
    state, version = load_aggregate(store, aggregate_uuid)
    events = decide(state)
    batches = [_batch(aggregate_uuid, version, events)]
    new_name = next((e.name for e in events if hasattr(e, "name")), None)
    if state is not None and new_name is not None:
        batches += [_name_batch(store, state.name, owner_id=aggregate_uuid, release=True),
                    _name_batch(store, new_name, owner_id=aggregate_uuid, release=False)]
    return store.append(*batches, context=context)


def _other_zones(queries: AggregateQueries, aggregate_uuid: str,
                 state: HostAggregate | None, hosts: list[str] | None = None,
                 ) -> dict[str, set[str]]:
    hosts = hosts if hosts is not None else list(state.hosts if state else ())
    return queries.zones_of_hosts(hosts, excluding=aggregate_uuid)


def update(store: EventStore, queries: AggregateQueries, aggregate_uuid: str, key: str, *,
           name: str | None, availability_zone: str | None | msgspec.UnsetType,
           context: Context) -> list[int]:
    """Rename and/or rezone (PUT). Raises AggregateNameExists, AggregateActionRefused."""
    return _change(store, aggregate_uuid, lambda state: aggregate.update(
        state, key, name=name, availability_zone=availability_zone,
        host_zones=_other_zones(queries, aggregate_uuid, state)), context)


def set_metadata(store: EventStore, queries: AggregateQueries, aggregate_uuid: str,
                 key: str, metadata: dict[str, str | None], *, context: Context) -> list[int]:
    return _change(store, aggregate_uuid, lambda state: aggregate.set_metadata(
        state, key, metadata, host_zones=_other_zones(queries, aggregate_uuid, state)),
        context)


def add_host(store: EventStore, queries: AggregateQueries, aggregate_uuid: str, key: str,
             host: str, *, context: Context) -> list[int]:
    """Raises NotFound for a host that never registered, AggregateHostConflict."""
    if not load_host(store, host)[0].hypervisor_hostname:
        raise NotFound("Compute host", host)
    zones = queries.zones_of_hosts([host], excluding=aggregate_uuid)[host]
    return _change(store, aggregate_uuid, lambda state: aggregate.add_host(
        state, key, host, other_zones=zones), context)


def remove_host(store: EventStore, aggregate_uuid: str, key: str, host: str, *,
                context: Context) -> list[int]:
    return _change(store, aggregate_uuid,
                   lambda state: aggregate.remove_host(state, key, host), context)


def delete(store: EventStore, aggregate_uuid: str, key: str, *, context: Context) -> list[int]:
    """Forget an empty aggregate and free its name."""
    state, version = load_aggregate(store, aggregate_uuid)
    events = aggregate.delete(state, key)
    release = _name_batch(store, state.name, owner_id=aggregate_uuid,  # type: ignore[union-attr]
                          release=True)
    return store.append(_batch(aggregate_uuid, version, events), release, context=context)
