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
    # Only a host with failures is written: the same row, without a new version of the
    # hosts row (hot: every claim and release of the host writes it too) on each spawn.
    cur.execute("UPDATE hosts SET failed_builds = 0 WHERE name = %s AND failed_builds <> 0",
                (e.host,))


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
        " disk_gb, updated_at, cpu_allocation_ratio, ram_allocation_ratio,"
        " disk_allocation_ratio) VALUES (%s,%s,%s,%s,%s,%s,%s,%s,%s,%s)"
        " ON CONFLICT (name) DO UPDATE"
        " SET hypervisor_type = EXCLUDED.hypervisor_type, vcpus = EXCLUDED.vcpus,"
        " hypervisor_hostname = EXCLUDED.hypervisor_hostname, memory_mb = EXCLUDED.memory_mb,"
        " disk_gb = EXCLUDED.disk_gb, updated_at = EXCLUDED.updated_at,"
        " cpu_allocation_ratio = EXCLUDED.cpu_allocation_ratio,"
        " ram_allocation_ratio = EXCLUDED.ram_allocation_ratio,"
        " disk_allocation_ratio = EXCLUDED.disk_allocation_ratio",
        (e.host, e.hypervisor_type, e.hypervisor_hostname, e.vcpus, e.memory_mb, e.disk_gb,
         env.timestamp, e.cpu_allocation_ratio, e.ram_allocation_ratio,
         e.disk_allocation_ratio))
    cur.execute(_RESUM, (e.host, e.host))


# Usage is kept incrementally: each claim or release changes its host's sums by that
# claim alone (one statement, no re-summing of the host's claims). Inside it, the
# UPDATE reads host_claims as it was before the CTE's write, which is what tells
# whether the instance is new to the host (running_vms counts instances, and a resize
# keeps two claims for one instance).
_CLAIM = (
    "WITH old AS (SELECT vcpus, memory_mb, disk_gb FROM host_claims"
    "  WHERE host = %(host)s AND instance_id = %(instance)s AND kind = %(kind)s),"
    " put AS (INSERT INTO host_claims VALUES (%(host)s, %(instance)s, %(vcpus)s,"
    "  %(memory)s, %(disk)s, %(kind)s) ON CONFLICT (host, instance_id, kind) DO UPDATE"
    "  SET vcpus = EXCLUDED.vcpus, memory_mb = EXCLUDED.memory_mb,"
    "  disk_gb = EXCLUDED.disk_gb)"
    " UPDATE hosts SET"
    " vcpus_used = vcpus_used + %(vcpus)s - coalesce((SELECT vcpus FROM old), 0),"
    " memory_mb_used = memory_mb_used + %(memory)s - coalesce((SELECT memory_mb FROM old), 0),"
    " disk_gb_used = disk_gb_used + %(disk)s - coalesce((SELECT disk_gb FROM old), 0),"
    " running_vms = running_vms + (NOT EXISTS (SELECT 1 FROM host_claims c"
    "  WHERE c.host = %(host)s AND c.instance_id = %(instance)s))::int,"
    " updated_at = %(at)s WHERE name = %(host)s")
_RELEASE = (
    "WITH gone AS (DELETE FROM host_claims WHERE host = %(host)s"
    "  AND instance_id = %(instance)s AND kind = %(kind)s"
    "  RETURNING vcpus, memory_mb, disk_gb)"
    " UPDATE hosts SET vcpus_used = vcpus_used - g.vcpus,"
    " memory_mb_used = memory_mb_used - g.memory_mb, disk_gb_used = disk_gb_used - g.disk_gb,"
    " running_vms = running_vms - (NOT EXISTS (SELECT 1 FROM host_claims c"
    "  WHERE c.host = %(host)s AND c.instance_id = %(instance)s AND c.kind <> %(kind)s))::int,"
    " updated_at = %(at)s FROM gone g WHERE name = %(host)s")
# The full sum, for a host (re-)registered after claims were folded for it.
_RESUM = (
    "UPDATE hosts SET (vcpus_used, memory_mb_used, disk_gb_used, running_vms) ="
    " (SELECT coalesce(sum(vcpus), 0), coalesce(sum(memory_mb), 0),"
    "  coalesce(sum(disk_gb), 0), count(DISTINCT instance_id) FROM host_claims"
    "  WHERE host = %s) WHERE name = %s")


def resources_claimed(cur: Cursor, env: Envelope) -> None:
    e: ev.ResourcesClaimed = env.data  # type: ignore[assignment]
    cur.execute(_CLAIM, {"host": e.host, "instance": e.instance_id, "kind": e.kind,
                         "vcpus": e.vcpus, "memory": e.memory_mb, "disk": e.disk_gb,
                         "at": env.timestamp})


def resources_released(cur: Cursor, env: Envelope) -> None:
    e: ev.ResourcesReleased = env.data  # type: ignore[assignment]
    cur.execute(_RELEASE, {"host": e.host, "instance": e.instance_id, "kind": e.kind,
                           "at": env.timestamp})


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
