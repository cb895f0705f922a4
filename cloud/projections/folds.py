"""How each event changes the read-model tables: one fold per event name, set-wise
(``SETWISE``, many events per statement, see setwise.py) for the events of a server's
life, one event at a time (``FOLDS``) for the rest."""

from collections.abc import Callable

import msgspec
from psycopg import Cursor

from cloud.domain import events as ev
from cloud.domain import states
from cloud.domain.envelope import Envelope
from cloud.projections.changes import position
from cloud.projections.setwise import Access, Folded, SetFold, one_server, rows, transposed
from cloud.projections.setwise import unnest

Fold = Callable[[Cursor, Envelope], None]
_json = msgspec.json.encode


def _touch(cur: Cursor, env: Envelope, assignments: str, *params: object) -> None:
    cur.execute(f"UPDATE servers SET {assignments}, updated_at = %s, version = %s "
                "WHERE id = %s", (*params, env.timestamp, env.version, env.id))


def _touching(assignments: str, **columns: tuple[str, Callable[[Folded], object]]) -> SetFold:
    """A set-wise fold that sets columns of each event's servers row (and its time and
    version); ``assignments`` read the event's values as ``p.<column>``."""
    types = {name: kind for name, (kind, _) in columns.items()}
    statement = (f"UPDATE servers s SET {assignments}, updated_at = p.at, version = p.version"
                 f" FROM {unnest(id='uuid', at='timestamptz', version='int', **types)}"
                 " WHERE s.id = p.id")
    getters = [value for _, value in columns.values()]

    def run(cur: Cursor, events: list[Folded]) -> None:
        cur.execute(statement, rows(events, lambda f: f.env.id, lambda f: f.env.timestamp,
                                    lambda f: f.env.version, *getters))
    return SetFold(run, one_server)


def _literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


_REQUESTED = (
    "INSERT INTO servers (id, name, project_id, user_id, flavor, image_ref, vm_state,"
    " task_state, metadata, availability_zone, key_name, created_at, updated_at,"
    " request_id, version, hostname, reservation_id, user_data, description,"
    " trusted_image_certificates, tags, access_ipv4, access_ipv6, launch_index)"
    f" SELECT id, name, project_id, user_id, flavor, image_ref, {_literal(states.BUILDING)},"
    f" {_literal(states.SCHEDULING)}, metadata, availability_zone, key_name, at, at,"
    " request_id, version, hostname, reservation_id, user_data, description, certificates,"
    " ARRAY(SELECT jsonb_array_elements_text(tags)), access_ipv4, access_ipv6, launch_index"
    " FROM " + unnest(id="uuid", name="text", project_id="text", user_id="text",
                      flavor="jsonb", image_ref="text", metadata="jsonb",
                      availability_zone="text", key_name="text", at="timestamptz",
                      request_id="text", version="int", hostname="text",
                      reservation_id="text", user_data="text", description="text",
                      certificates="jsonb", tags="jsonb", access_ipv4="text",
                      access_ipv6="text", launch_index="int") +
    " ON CONFLICT (id) DO NOTHING")


def _requested_row(f: Folded) -> tuple:
    env, e = f.env, f.env.data
    certificates = e.trusted_image_certificates  # type: ignore[attr-defined]
    return (env.id, e.name, e.project_id, e.user_id, _json(e.flavor).decode(),
            e.image_ref, _json(e.metadata).decode(), e.availability_zone, e.key_name,
            env.timestamp, env.request_id, env.version, e.hostname, e.reservation_id,
            e.user_data, e.description,
            None if certificates is None else _json(certificates).decode(),
            _json(sorted(set(e.tags))).decode(), e.access_ipv4 or "", e.access_ipv6 or "",
            e.launch_index)


def _requested(cur: Cursor, events: list[Folded]) -> None:
    """The servers row, with every create-time attribute (2.63 certificates, tags,
    access IPs, launch index); a redelivery finds it there and changes nothing."""
    cur.execute(_REQUESTED, transposed(map(_requested_row, events)))


instance_requested = SetFold(_requested, one_server)
instance_scheduled = _touching(
    f"host = p.host, node = p.node, task_state = {_literal(states.SPAWNING)}",
    host=("text", lambda f: f.env.data.host), node=("text", lambda f: f.env.data.node))
_spawned_server = _touching(
    f"vm_state = {_literal(states.ACTIVE)}, task_state = NULL, power_state = p.power,"
    " launched_at = p.at", power=("int", lambda f: f.env.data.power_state))
# A build that works puts its host back in rotation (Nova's build-failure counter). Of
# several spawns on one host only the first in the log finds failed builds to reset.
_HOST_BACK = ("UPDATE hosts h SET failed_builds = 0,"
              " changed_at = greatest(h.changed_at, p.position)"
              " FROM (SELECT host, min(position) AS position FROM "
              + unnest(host="text", position="bigint") + " GROUP BY host) p"
              " WHERE h.name = p.host AND h.failed_builds <> 0")


def _spawned(cur: Cursor, events: list[Folded]) -> None:
    _spawned_server.run(cur, events)
    cur.execute(_HOST_BACK, rows(events, lambda f: f.env.data.host, lambda f: f.position))


instance_spawned = SetFold(_spawned, lambda env: [
    *one_server(env), Access(("failed_builds", env.data.host), "reset")])  # type: ignore[attr-defined]
instance_delete_requested = _touching(f"task_state = {_literal(states.DELETING)}")
instance_deleted = _touching(
    f"vm_state = {_literal(states.DELETED)}, task_state = NULL, power_state = 0,"
    " terminated_at = p.at")


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
# The events of a server's life, folded many at a time (see setwise.py).
SETWISE: dict[str, SetFold] = {
    "InstanceRequested": instance_requested,
    "InstanceScheduled": instance_scheduled,
    "InstanceSpawned": instance_spawned,
    "InstanceDeleteRequested": instance_delete_requested,
    "InstanceDeleted": instance_deleted,
}
