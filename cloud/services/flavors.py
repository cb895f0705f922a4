"""Flavor use cases: load, decide, save.

A flavor's name is reserved on its index stream in the same save as the flavor, so of two
requests racing for one name or one id exactly one wins; the loser is decided again and
gets the 409 a sequential request would get.
"""

from collections.abc import Callable

from cloud.adapters.eventstore import Batch, EventStore
from cloud.domain import flavor, ids
from cloud.domain.envelope import Context
from cloud.domain.errors import Conflict
from cloud.domain.events import Event, FlavorSpec
from cloud.domain.flavor import NAME_KIND, Flavor
from cloud.services.identity import load_index
from cloud.services.repository import load_flavor

Positions = list[int]
Decision = Callable[[Flavor | None], list[Event]]
_ATTEMPTS = 3


def _flavor_batch(flavorid: str, version: int, events: list[Event]) -> Batch:
    return Batch(ids.flavor_stream(flavorid), flavorid, version, events)


def _name_batch(store: EventStore, name: str, flavorid: str, *,
                release: bool = False) -> Batch:
    """The index events that reserve (or free) a flavor name."""
    stream = ids.name_stream(NAME_KIND, "", name)
    index, version = load_index(store, NAME_KIND, "", name)
    events = (flavor.release_name(index, flavorid) if release
              else flavor.claim_name(index, name, flavorid))
    return Batch(stream, str(stream), version, events)


def _retrying(save: Callable[[], Positions], flavorid: str) -> Positions:
    """Run a load-decide-save again when another request saved first."""
    for _ in range(_ATTEMPTS):
        try:
            return save()
        except Conflict:
            continue
    raise Conflict(f"Flavor {flavorid} is being changed by another request.")


def create(store: EventStore, spec: FlavorSpec, *, context: Context, is_public: bool = True,
           description: str | None = None, rxtx_factor: float = 1.0) -> Positions:
    """Create a flavor. Raises Duplicate when its id or its name is taken."""
    def save() -> Positions:
        existing, version = load_flavor(store, spec.flavorid)
        events = flavor.create(existing, spec, is_public=is_public, description=description,
                               rxtx_factor=rxtx_factor)
        return store.append(_name_batch(store, spec.name, spec.flavorid),
                            _flavor_batch(spec.flavorid, version, events), context=context)
    return _retrying(save, spec.flavorid)


def claim_own_name(store: EventStore, spec: FlavorSpec, *, context: Context) -> Positions:
    """Reserve a live flavor's name if nobody holds it (logs older than name indexes)."""
    index, _ = load_index(store, NAME_KIND, "", spec.name)
    if index.owner_id is not None:
        return []
    return store.append(_name_batch(store, spec.name, spec.flavorid), context=context)


def delete(store: EventStore, flavorid: str, *, context: Context) -> Positions:
    """Delete a flavor and free its name (FlavorNotFound when there is none)."""
    def save() -> Positions:
        existing, version = load_flavor(store, flavorid)
        events = flavor.delete(existing, flavorid)
        return store.append(_name_batch(store, existing.spec.name, flavorid,  # type: ignore
                                        release=True),
                            _flavor_batch(flavorid, version, events), context=context)
    return _retrying(save, flavorid)


def change(store: EventStore, flavorid: str, decide: Decision, *,
           context: Context) -> Positions:
    """Apply one decision (from ``cloud.domain.flavor``) to a flavor."""
    def save() -> Positions:
        existing, version = load_flavor(store, flavorid)
        return store.append(_flavor_batch(flavorid, version, decide(existing)),
                            context=context)
    return _retrying(save, flavorid)


def describe(store: EventStore, flavorid: str, description: str | None, *,
             context: Context) -> Positions:
    return change(store, flavorid, lambda f: flavor.describe(f, flavorid, description),
                  context=context)


def set_extra_specs(store: EventStore, flavorid: str, extra_specs: dict[str, str], *,
                    context: Context) -> Positions:
    return change(store, flavorid,
                  lambda f: flavor.set_extra_specs(f, flavorid, extra_specs), context=context)


def delete_extra_spec(store: EventStore, flavorid: str, key: str, *,
                      context: Context) -> Positions:
    return change(store, flavorid, lambda f: flavor.delete_extra_spec(f, flavorid, key),
                  context=context)


def add_access(store: EventStore, flavorid: str, project_id: str, *, refuse_public: bool,
               context: Context) -> Positions:
    return change(store, flavorid, lambda f: flavor.add_access(
        f, flavorid, project_id, refuse_public=refuse_public), context=context)


def remove_access(store: EventStore, flavorid: str, project_id: str, *,
                  context: Context) -> Positions:
    return change(store, flavorid, lambda f: flavor.remove_access(f, flavorid, project_id),
                  context=context)
