"""How each event changes the read-model tables (one function per event name)."""

from collections.abc import Callable

import msgspec
from psycopg import Cursor

from cloud.domain import events as ev
from cloud.domain import states
from cloud.domain.envelope import Envelope

Fold = Callable[[Cursor, Envelope], None]
_json = msgspec.json.encode


def _touch(cur: Cursor, env: Envelope, assignments: str, *params: object) -> None:
    cur.execute(f"UPDATE servers SET {assignments}, updated_at = %s, version = %s "
                "WHERE id = %s", (*params, env.timestamp, env.version, env.id))


def instance_requested(cur: Cursor, env: Envelope) -> None:
    e: ev.InstanceRequested = env.data  # type: ignore[assignment]
    cur.execute(
        "INSERT INTO servers (id, name, project_id, user_id, flavor, image_ref, vm_state,"
        " task_state, metadata, availability_zone, key_name, created_at, updated_at,"
        " request_id, version, hostname, reservation_id, user_data, description)"
        " VALUES (%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s)"
        " ON CONFLICT (id) DO NOTHING",
        (env.id, e.name, e.project_id, e.user_id, _json(e.flavor).decode(), e.image_ref,
         states.BUILDING, states.SCHEDULING, _json(e.metadata).decode(),
         e.availability_zone, e.key_name, env.timestamp, env.timestamp, env.request_id,
         env.version, e.hostname, e.reservation_id, e.user_data, e.description))
    if e.trusted_image_certificates is not None:
        # Column of server_actions.DDL (2.63); the version guard keeps a redelivery
        # from undoing a later rebuild's certificates.
        cur.execute("UPDATE servers SET trusted_image_certificates = %s"
                    " WHERE id = %s AND version = %s",
                    (_json(e.trusted_image_certificates).decode(), env.id, env.version))


def instance_scheduled(cur: Cursor, env: Envelope) -> None:
    e: ev.InstanceScheduled = env.data  # type: ignore[assignment]
    _touch(cur, env, "host = %s, node = %s, task_state = %s", e.host, e.node, states.SPAWNING)


def instance_spawned(cur: Cursor, env: Envelope) -> None:
    e: ev.InstanceSpawned = env.data  # type: ignore[assignment]
    _touch(cur, env, "vm_state = %s, task_state = NULL, power_state = %s, launched_at = %s",
           states.ACTIVE, e.power_state, env.timestamp)
    # A build that works puts its host back in rotation (Nova's build-failure counter).
    cur.execute("UPDATE hosts SET failed_builds = 0 WHERE name = %s", (e.host,))


def instance_rescheduled(cur: Cursor, env: Envelope) -> None:
    e: ev.InstanceRescheduled = env.data  # type: ignore[assignment]
    _touch(cur, env, "host = NULL, node = NULL, task_state = %s", states.SCHEDULING)
    cur.execute("UPDATE hosts SET failed_builds = failed_builds + 1 WHERE name = %s",
                (e.failed_host,))


def instance_failed(cur: Cursor, env: Envelope) -> None:
    e: ev.InstanceFailed = env.data  # type: ignore[assignment]
    fault = {"code": e.fault.code, "message": e.fault.message, "details": e.fault.details,
             "created": env.timestamp}
    _touch(cur, env, "vm_state = %s, task_state = NULL, fault = %s",
           states.ERROR, _json(fault).decode())
    if e.host:
        cur.execute("UPDATE hosts SET failed_builds = failed_builds + 1 WHERE name = %s",
                    (e.host,))


def instance_delete_requested(cur: Cursor, env: Envelope) -> None:
    _touch(cur, env, "task_state = %s", states.DELETING)


def instance_deleted(cur: Cursor, env: Envelope) -> None:
    _touch(cur, env, "vm_state = %s, task_state = NULL, power_state = 0, terminated_at = %s",
           states.DELETED, env.timestamp)


def host_registered(cur: Cursor, env: Envelope) -> None:
    e: ev.HostRegistered = env.data  # type: ignore[assignment]
    cur.execute(
        "INSERT INTO hosts (name, hypervisor_type, hypervisor_hostname, vcpus, memory_mb,"
        " disk_gb, updated_at) VALUES (%s,%s,%s,%s,%s,%s,%s) ON CONFLICT (name) DO UPDATE"
        " SET hypervisor_type = EXCLUDED.hypervisor_type, vcpus = EXCLUDED.vcpus,"
        " hypervisor_hostname = EXCLUDED.hypervisor_hostname, memory_mb = EXCLUDED.memory_mb,"
        " disk_gb = EXCLUDED.disk_gb, updated_at = EXCLUDED.updated_at",
        (e.host, e.hypervisor_type, e.hypervisor_hostname, e.vcpus, e.memory_mb, e.disk_gb,
         env.timestamp))


def _resum_host(cur: Cursor, host: str, timestamp: str) -> None:
    cur.execute(
        "UPDATE hosts SET (vcpus_used, memory_mb_used, disk_gb_used, running_vms) ="
        " (SELECT coalesce(sum(vcpus), 0), coalesce(sum(memory_mb), 0),"
        "  coalesce(sum(disk_gb), 0), count(DISTINCT instance_id) FROM host_claims"
        "  WHERE host = %s),"
        " updated_at = %s WHERE name = %s", (host, timestamp, host))


def resources_claimed(cur: Cursor, env: Envelope) -> None:
    e: ev.ResourcesClaimed = env.data  # type: ignore[assignment]
    cur.execute("INSERT INTO host_claims VALUES (%s,%s,%s,%s,%s,%s) ON CONFLICT DO NOTHING",
                (e.host, e.instance_id, e.vcpus, e.memory_mb, e.disk_gb, e.kind))
    _resum_host(cur, e.host, env.timestamp)


def resources_released(cur: Cursor, env: Envelope) -> None:
    e: ev.ResourcesReleased = env.data  # type: ignore[assignment]
    cur.execute("DELETE FROM host_claims WHERE host = %s AND instance_id = %s AND kind = %s",
                (e.host, e.instance_id, e.kind))
    _resum_host(cur, e.host, env.timestamp)


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
    "InstanceRequested": instance_requested,
    "InstanceScheduled": instance_scheduled,
    "InstanceSpawned": instance_spawned,
    "InstanceFailed": instance_failed,
    "InstanceRescheduled": instance_rescheduled,
    "InstanceDeleteRequested": instance_delete_requested,
    "InstanceDeleted": instance_deleted,
    "HostRegistered": host_registered,
    "ResourcesClaimed": resources_claimed,
    "ResourcesReleased": resources_released,
    "FlavorCreated": flavor_created,
}
