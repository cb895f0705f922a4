"""How each event changes the read-model tables: one fold per event name, set-wise
(``SETWISE``, many events per statement, see setwise.py) for the events of a server's
life, one event at a time (``FOLDS``) for the rest."""

from collections.abc import Callable
from operator import itemgetter
from typing import NamedTuple

import msgspec
from psycopg import Cursor

from cloud.domain import events as ev
from cloud.domain import states
from cloud.domain.aggregate import AZ_KEY
from cloud.domain.envelope import Envelope
from cloud.projections.changes import position
from cloud.projections.setwise import Access, Column, Folded, SetFold, one_server, rows
from cloud.projections.setwise import transposed, unnest

Fold = Callable[[Cursor, Envelope], None]
_json = msgspec.json.encode


def _touch(cur: Cursor, env: Envelope, assignments: str, *params: object) -> None:
    cur.execute(f"UPDATE servers SET {assignments}, updated_at = %s, version = %s "
                "WHERE id = %s", (*params, env.timestamp, env.version, env.id))


# The servers columns a set-wise fold writes, and their types: what a server is asked
# for, then what its life changes (the rest keep their defaults).
SERVER_COLUMNS = {
    "id": "uuid", "name": "text", "project_id": "text", "user_id": "text",
    "flavor": "jsonb", "image_ref": "text", "metadata": "jsonb",
    "availability_zone": "text", "key_name": "text", "created_at": "timestamptz",
    "request_id": "text", "hostname": "text", "reservation_id": "text",
    "user_data": "text", "description": "text", "trusted_image_certificates": "jsonb",
    "tags": "text[]", "access_ipv4": "text", "access_ipv6": "text", "launch_index": "int",
    "vm_state": "text", "task_state": "text", "power_state": "int", "host": "text",
    "node": "text", "launched_at": "timestamptz", "terminated_at": "timestamptz",
    "updated_at": "timestamptz", "version": "int",
}
Row = dict[str, object]


def requested_row(env: Envelope) -> Row:
    """A new server's row (every column of SERVER_COLUMNS), from its request; the
    jsonb columns hold JSON text, ``tags`` a text[] literal."""
    e: ev.InstanceRequested = env.data  # type: ignore[assignment]
    certificates = e.trusted_image_certificates
    return {
        "id": env.id, "name": e.name, "project_id": e.project_id, "user_id": e.user_id,
        "flavor": _json(e.flavor).decode(), "image_ref": e.image_ref,
        "metadata": _json(e.metadata).decode(), "availability_zone": e.availability_zone,
        "key_name": e.key_name, "created_at": env.timestamp, "request_id": env.request_id,
        "hostname": e.hostname, "reservation_id": e.reservation_id,
        "user_data": e.user_data, "description": e.description,
        "trusted_image_certificates":
            None if certificates is None else _json(certificates).decode(),
        "tags": text_array(sorted(set(e.tags))), "access_ipv4": e.access_ipv4 or "",
        "access_ipv6": e.access_ipv6 or "", "launch_index": e.launch_index,
        "vm_state": states.BUILDING, "task_state": states.SCHEDULING, "power_state": 0,
        "host": None, "node": None, "launched_at": None, "terminated_at": None,
        "updated_at": env.timestamp, "version": env.version,
    }


def text_array(values: list[str]) -> str:
    """A text[] literal: each element quoted, its quotes and backslashes escaped."""
    if not values:
        return "{}"
    quoted = (value.replace("\\", "\\\\").replace('"', '\\"') for value in values)
    return '{"' + '","'.join(quoted) + '"}'


class ServerChange(NamedTuple):
    """What an event of a server's life after its request sets in the server's row,
    besides the time and version (which every one of them sets)."""

    columns: tuple[str, ...]
    values: Callable[[Envelope], tuple]


SERVER_CHANGES: dict[str, ServerChange] = {
    "InstanceScheduled": ServerChange(
        ("host", "node", "task_state"),
        lambda env: (env.data.host, env.data.node, states.SPAWNING)),  # type: ignore[attr-defined]
    "InstanceSpawned": ServerChange(
        ("vm_state", "task_state", "power_state", "launched_at"),
        lambda env: (states.ACTIVE, None, env.data.power_state, env.timestamp)),  # type: ignore[attr-defined]
    "InstanceDeleteRequested": ServerChange(
        ("task_state",), lambda env: (states.DELETING,)),
    "InstanceDeleted": ServerChange(
        ("vm_state", "task_state", "power_state", "terminated_at"),
        lambda env: (states.DELETED, None, 0, env.timestamp)),
}


def changed(row: Row, change: ServerChange, env: Envelope) -> None:
    """Apply one event of SERVER_CHANGES (``change``, its entry there) to a server's
    row held in the client."""
    row.update(zip(change.columns, change.values(env)))
    row["updated_at"], row["version"] = env.timestamp, env.version


def _touching(name: str) -> SetFold:
    """The set-wise fold of one event of SERVER_CHANGES: one UPDATE for all its events."""
    change = SERVER_CHANGES[name]
    columns = [*change.columns, "updated_at", "version"]
    statement = (f"UPDATE servers s SET {', '.join(f'{c} = p.{c}' for c in columns)}"
                 f" FROM {unnest(id='uuid', **{c: SERVER_COLUMNS[c] for c in columns})}"
                 " WHERE s.id = p.id")

    def run(cur: Cursor, events: list[Folded]) -> None:
        cur.execute(statement, transposed(
            (f.env.id, *change.values(f.env), f.env.timestamp, f.env.version)
            for f in events))
    return SetFold(run, one_server)


def zone_of(host: str) -> str:
    """SQL for the zone of a host (the first of its aggregates' zones), given the SQL
    of the host's name: what a server scheduled to it gets (here and aggregates.py)."""
    return ("(SELECT m.value FROM aggregate_hosts h JOIN aggregate_metadata m"
            f" ON m.aggregate_uuid = h.aggregate_uuid AND m.key = '{AZ_KEY}'"
            f" WHERE h.host = {host} ORDER BY m.value LIMIT 1)")


def zones() -> str:
    """SQL for a table of every host's zone (``host``, ``zone``): zone_of(host) for all
    the hosts in an aggregate with a zone at once."""
    return ("(SELECT h.host, min(m.value) AS zone FROM aggregate_hosts h"
            " JOIN aggregate_metadata m ON m.aggregate_uuid = h.aggregate_uuid"
            f" AND m.key = '{AZ_KEY}' GROUP BY h.host)")


def _insert(zoned: bool, new: bool) -> str:
    """Every column of SERVER_COLUMNS, each row's tags as one text[] literal (an
    ``unnest`` of text[][] would flatten them), its flavor as a number in an array of
    the distinct flavors' JSON (the first parameter: a batch's servers share a few
    flavors, and each is parsed once), its zone the one its host is in at this point of
    the log if it was scheduled (``zone_host``), else the one asked for. ``zoned``: some
    were scheduled, so the zones are joined (once, not looked up row by row; zones looked
    up, and flavors and tags parsed as JSON, row by row made the insert about 45% slower:
    docs/benchmarks.md, session 10). ``new``: no row can be there already."""
    return (
        f"INSERT INTO servers ({', '.join(SERVER_COLUMNS)})"
        " SELECT " + ", ".join(
            ("coalesce(z.zone, p.availability_zone)" if zoned else "p.availability_zone")
            if c == "availability_zone" else
            "(%t::jsonb[])[p.flavor]" if c == "flavor" else
            "p.tags::text[]" if c == "tags" else f"p.{c}"
            for c in SERVER_COLUMNS) +
        " FROM " + unnest(**{**SERVER_COLUMNS, "flavor": "int", "tags": "text"},
                          zone_host="text") +
        (f" LEFT JOIN {zones()} z ON z.host = p.zone_host" if zoned else "") +
        ("" if new else " ON CONFLICT (id) DO NOTHING"))


_INSERTS = {(zoned, new): _insert(zoned, new) for zoned in (False, True) for new in (False, True)}
_SERVER_VALUES = itemgetter(*SERVER_COLUMNS)
_FLAVOR = list(SERVER_COLUMNS).index("flavor")


def insert_servers(cur: Cursor, servers: list[tuple[Row, str | None]], *,
                   new: bool = False) -> None:
    """Insert servers' rows (each with the host its zone comes from, if scheduled); a
    row already there stays as it is. ``new``: none of them can have one (newborn.py),
    so the insert need not look for it (a conflict would fail the batch)."""
    flavors: dict[str, int] = {}
    values = []
    for row, _ in servers:
        value = list(_SERVER_VALUES(row))
        value[_FLAVOR] = flavors.setdefault(row["flavor"], len(flavors) + 1)  # 1-based
        values.append(value)
    hosts = Column([zone_host for _, zone_host in servers])
    cur.execute(_INSERTS[any(hosts), new],
                [Column(list(flavors)), *transposed(values), hosts])


def _requested(cur: Cursor, events: list[Folded]) -> None:
    """The servers row, with every create-time attribute (2.63 certificates, tags,
    access IPs, launch index); a redelivery finds it there and changes nothing."""
    insert_servers(cur, [(requested_row(f.env), None) for f in events])


instance_requested = SetFold(_requested, one_server)
# A build that works puts its host back in rotation (Nova's build-failure counter). Of
# several spawns on one host only the first in the log finds failed builds to reset.
_HOST_BACK = ("UPDATE hosts h SET failed_builds = 0,"
              " changed_at = greatest(h.changed_at, p.position)"
              " FROM (SELECT host, min(position) AS position FROM "
              + unnest(host="text", position="bigint") + " GROUP BY host) p"
              " WHERE h.name = p.host AND h.failed_builds <> 0")


def _host_back(cur: Cursor, events: list[Folded]) -> None:
    cur.execute(_HOST_BACK, rows(events, lambda f: f.env.data.host, lambda f: f.position))


host_back = SetFold(_host_back, lambda env: [
    Access(("failed_builds", env.data.host), "reset")])  # type: ignore[attr-defined]


def instance_rescheduled(cur: Cursor, env: Envelope) -> None:
    e: ev.InstanceRescheduled = env.data  # type: ignore[assignment]
    _touch(cur, env, "host = NULL, node = NULL, task_state = %s", states.SCHEDULING)
    cur.execute(_FAILED_BUILD, (position(), e.failed_host))


def instance_failed(cur: Cursor, env: Envelope) -> None:
    e: ev.InstanceFailed = env.data  # type: ignore[assignment]
    fault = {"code": e.fault.code, "message": e.fault.message, "details": e.fault.details,
             "created": env.timestamp}
    _touch(cur, env, "vm_state = %s, task_state = NULL, fault = %s",
           states.ERROR, _json(fault).decode())
    if e.host:
        cur.execute(_FAILED_BUILD, (position(), e.host))


_FAILED_BUILD = ("UPDATE hosts SET failed_builds = failed_builds + 1, changed_at = %s"
                 " WHERE name = %s")


def host_registered(cur: Cursor, env: Envelope) -> None:
    e: ev.HostRegistered = env.data  # type: ignore[assignment]
    cur.execute(
        "INSERT INTO hosts (name, hypervisor_type, hypervisor_hostname, vcpus, memory_mb,"
        " disk_gb, updated_at, cpu_allocation_ratio, ram_allocation_ratio,"
        " disk_allocation_ratio, changed_at) VALUES (%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s)"
        " ON CONFLICT (name) DO UPDATE"
        " SET hypervisor_type = EXCLUDED.hypervisor_type, vcpus = EXCLUDED.vcpus,"
        " hypervisor_hostname = EXCLUDED.hypervisor_hostname, memory_mb = EXCLUDED.memory_mb,"
        " disk_gb = EXCLUDED.disk_gb, updated_at = EXCLUDED.updated_at,"
        " cpu_allocation_ratio = EXCLUDED.cpu_allocation_ratio,"
        " ram_allocation_ratio = EXCLUDED.ram_allocation_ratio,"
        " disk_allocation_ratio = EXCLUDED.disk_allocation_ratio,"
        " changed_at = EXCLUDED.changed_at",
        (e.host, e.hypervisor_type, e.hypervisor_hostname, e.vcpus, e.memory_mb, e.disk_gb,
         env.timestamp, e.cpu_allocation_ratio, e.ram_allocation_ratio,
         e.disk_allocation_ratio, position()))
    cur.execute(_RESUM, (e.host, e.host))


# The full sum, for a host (re-)registered after claims were folded for it.
_RESUM = (
    "UPDATE hosts SET (vcpus_used, memory_mb_used, disk_gb_used, running_vms) ="
    " (SELECT coalesce(sum(vcpus), 0), coalesce(sum(memory_mb), 0),"
    "  coalesce(sum(disk_gb), 0), count(DISTINCT instance_id) FROM host_claims"
    "  WHERE host = %s) WHERE name = %s")


def flavor_created(cur: Cursor, env: Envelope) -> None:
    e: ev.FlavorCreated = env.data  # type: ignore[assignment]
    f = e.flavor
    # Numbered after the largest number given, as a replay numbers them again.
    cur.execute("INSERT INTO flavors (flavorid, name, vcpus, ram, disk, ephemeral, swap,"
                " is_public, description, created_at, rxtx_factor, seq)"
                " SELECT %s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s, coalesce(max(seq), 0) + 1"
                " FROM flavors ON CONFLICT (flavorid) DO NOTHING",
                (f.flavorid, f.name, f.vcpus, f.ram, f.disk, f.ephemeral, f.swap,
                 e.is_public, e.description, env.timestamp, e.rxtx_factor))


FOLDS: dict[str, Fold] = {
    "InstanceFailed": instance_failed,
    "InstanceRescheduled": instance_rescheduled,
    "HostRegistered": host_registered,
    "FlavorCreated": flavor_created,
}
# The events of a server's life, folded many at a time (see setwise.py): its row...
SETWISE: dict[str, SetFold] = {
    "InstanceRequested": instance_requested,
    **{name: _touching(name) for name in SERVER_CHANGES},
}
# ...and its host's build failures, forgiven.
HOSTS_SETWISE: dict[str, SetFold] = {"InstanceSpawned": host_back}
