"""The host Aggregate: a named set of hosts with metadata; an availability zone is the
``availability_zone`` key of that metadata (as in Nova).

Names are unique: a name is reserved on its index stream (``ids.name_stream`` with kind
``aggregate``, the same NameClaimed/NameReleased index identity uses), saved in the same
transaction as the aggregate's event, so two creates of one name cannot both succeed.
Rules that span aggregates (a host is in one zone only) are checked against the zones
the caller read; they are advisory, as Nova's are.
"""

import msgspec

from cloud.domain import events as ev
from cloud.domain.errors import DomainError, Duplicate, Invalid, NotFound
from cloud.domain.identity import NameIndex

AZ_KEY = "availability_zone"
DEFAULT_ZONE = "nova"
INTERNAL_ZONE = "internal"
NAME_KIND = "aggregate"


class HostAggregate(msgspec.Struct, frozen=True, kw_only=True):
    id: str
    name: str
    metadata: dict[str, str] = {}
    hosts: tuple[str, ...] = ()
    deleted: bool = False

    @property
    def availability_zone(self) -> str | None:
        return self.metadata.get(AZ_KEY)


class AggregateNotFound(NotFound):
    def __init__(self, key: str) -> None:
        NotFound.__init__(self, "Aggregate", key)


class AggregateNameExists(Duplicate):
    def __init__(self, name: str) -> None:
        super().__init__(f"Aggregate {name} already exists.")


class AggregateHostConflict(Duplicate):
    """Adding a host is refused (already there, or its zone would clash): a 409."""


class AggregateHostMissing(NotFound):
    def __init__(self, key: str, host: str) -> None:
        DomainError.__init__(self, f"Cannot remove host {host} in aggregate {key}")
        self.kind, self.key = "Aggregate", key


class AggregateActionRefused(Invalid):
    """An update, metadata change or delete Nova refuses with a 400."""


# --- the name index -------------------------------------------------------------------


def claim_name(index: NameIndex, *, name: str, owner_id: str) -> list[ev.Event]:
    """Reserve an aggregate name; refused while another aggregate holds it."""
    if index.owner_id == owner_id:
        return []
    if index.owner_id is not None:
        raise AggregateNameExists(name)
    return [ev.NameClaimed(kind=NAME_KIND, domain_id="", name=name, owner_id=owner_id)]


def release_name(index: NameIndex, *, owner_id: str) -> list[ev.Event]:
    return [ev.NameReleased(owner_id=owner_id)] if index.owner_id == owner_id else []


# --- decide ---------------------------------------------------------------------------


def _alive(aggregate: HostAggregate | None, key: str) -> HostAggregate:
    if aggregate is None or aggregate.deleted:
        raise AggregateNotFound(key)
    return aggregate


def create(existing: HostAggregate | None, *, name: str,
           availability_zone: str | None) -> list[ev.Event]:
    """A new aggregate (its name is claimed in the same save)."""
    if existing is not None:
        raise AggregateNameExists(name)
    return [ev.AggregateCreated(name=name, availability_zone=availability_zone or None)]


def _zone_conflicts(zone: str, host_zones: dict[str, set[str]]) -> list[str]:
    """Zones other than ``zone`` that the given hosts are in through other aggregates."""
    return sorted({other for host, zones in host_zones.items() for other in zones
                   if other != zone})


def change_zone(aggregate: HostAggregate, key: str, zone: str, *,
                host_zones: dict[str, set[str]], what: str) -> list[ev.Event]:
    """Set the availability zone; its hosts may not be in another zone already.
    ``host_zones`` maps each of its hosts to the zones of its *other* aggregates."""
    if zone == aggregate.availability_zone:
        return []
    conflicts = _zone_conflicts(zone, host_zones)
    if conflicts:
        raise AggregateActionRefused(
            f"Cannot update {what}aggregate {key}. Reason: One or more hosts already in"
            f" availability zone(s) {conflicts}.")
    return [ev.AggregateMetadataSet(metadata={AZ_KEY: zone})]


def update(aggregate: HostAggregate | None, key: str, *, name: str | None,
           availability_zone: str | None | msgspec.UnsetType,
           host_zones: dict[str, set[str]]) -> list[ev.Event]:
    """Rename and/or move to another zone (PUT /os-aggregates/{id}); an unset zone
    stays, an empty or null one is refused (as Nova does)."""
    current = _alive(aggregate, key)
    events: list[ev.Event] = []
    if name is not None and name != current.name:
        events.append(ev.AggregateRenamed(name=name))
    if availability_zone is not msgspec.UNSET:
        if not availability_zone:
            raise AggregateActionRefused(
                f"Cannot update aggregate {key}. Reason: Aggregate {current.name} does"
                " not support empty named availability zone.")
        events += change_zone(current, key, availability_zone, host_zones=host_zones,
                              what="")
    return events


def set_metadata(aggregate: HostAggregate | None, key: str, metadata: dict[str, str | None],
                 *, host_zones: dict[str, set[str]]) -> list[ev.Event]:
    """Set keys (a None value removes the key); ``availability_zone`` moves the zone."""
    current = _alive(aggregate, key)
    if AZ_KEY in metadata:
        zone = metadata[AZ_KEY]
        if not zone:  # Nova refuses to drop a zone this way, null included
            raise AggregateActionRefused(
                f"Cannot update metadata of aggregate {key}. Reason: Aggregate"
                f" {current.name} does not support empty named availability zone.")
        change_zone(current, key, zone, host_zones=host_zones, what="metadata of ")
    values = {k: v for k, v in metadata.items() if v is not None}
    removed = sorted(k for k, v in metadata.items() if v is None and k in current.metadata)
    if not values and not removed:
        return []
    return [ev.AggregateMetadataSet(metadata=values, removed=removed)]


def add_host(aggregate: HostAggregate | None, key: str, host: str, *,
             other_zones: set[str]) -> list[ev.Event]:
    """Put a (known) host in the aggregate; its zone may not clash with the host's."""
    current = _alive(aggregate, key)
    if host in current.hosts:
        raise AggregateHostConflict(f"Aggregate {key} already has host {host}.")
    zone = current.availability_zone
    clashing = sorted(z for z in other_zones if zone and z != zone)
    if clashing:
        raise AggregateHostConflict(
            f"Cannot add host to aggregate {key}. Reason: One or more hosts already in"
            f" availability zone(s) {clashing}.")
    return [ev.AggregateHostAdded(host=host)]


def remove_host(aggregate: HostAggregate | None, key: str, host: str) -> list[ev.Event]:
    current = _alive(aggregate, key)
    if host not in current.hosts:
        raise AggregateHostMissing(key, host)
    return [ev.AggregateHostRemoved(host=host)]


def delete(aggregate: HostAggregate | None, key: str) -> list[ev.Event]:
    """Only an empty aggregate goes (Nova answers 400 otherwise)."""
    current = _alive(aggregate, key)
    if current.hosts:
        raise AggregateActionRefused(f"Cannot remove host from aggregate {key}. Reason:"
                                     " Host aggregate is not empty.")
    return [ev.AggregateDeleted()]


# --- evolve ---------------------------------------------------------------------------


def evolve(aggregate: HostAggregate | None, aggregate_id: str,
           event: ev.Event) -> HostAggregate | None:
    """Apply one recorded event."""
    if isinstance(event, ev.AggregateCreated):
        zone = {AZ_KEY: event.availability_zone} if event.availability_zone else {}
        return HostAggregate(id=aggregate_id, name=event.name, metadata=zone)
    if aggregate is None:
        return None
    match event:
        case ev.AggregateRenamed(name=name):
            return msgspec.structs.replace(aggregate, name=name)
        case ev.AggregateMetadataSet(metadata=values, removed=removed):
            kept = {k: v for k, v in aggregate.metadata.items() if k not in removed}
            return msgspec.structs.replace(aggregate, metadata={**kept, **values})
        case ev.AggregateHostAdded(host=host):
            return msgspec.structs.replace(aggregate, hosts=(*aggregate.hosts, host))
        case ev.AggregateHostRemoved(host=host):
            rest = tuple(h for h in aggregate.hosts if h != host)
            return msgspec.structs.replace(aggregate, hosts=rest)
        case ev.AggregateDeleted():
            return msgspec.structs.replace(aggregate, deleted=True)
    return aggregate
