"""What the conductor does with each compute report, and its deadline sweep."""

import datetime as dt

import psycopg

from cloud.adapters.eventstore import EventStore
from cloud.agents import reports as r
from cloud.domain import states
from cloud.domain.envelope import Actor, Context
from cloud.domain.events import Fault
from cloud.services import hosts, instances


def context_of(report: r.Report, timestamp: str) -> Context:
    return Context(request_id=report.request_id,
                   actor=Actor(agent=f"compute:{report.host}"), timestamp=timestamp)


def record_heartbeat(conn: psycopg.Connection, host: str, binary: str, at: str) -> None:
    """Liveness is one overwritten row per service, not history."""
    conn.execute("INSERT INTO services VALUES (%s, %s, %s) ON CONFLICT (host, binary_name)"
                 " DO UPDATE SET last_seen_at = EXCLUDED.last_seen_at", (host, binary, at))


def apply(store: EventStore, report: r.Report, context: Context) -> None:
    """Turn one report into events (each use case is idempotent)."""
    match report:
        case r.Registered():
            hosts.register(store, report.host, context=context,
                           hypervisor_type=report.hypervisor_type,
                           hypervisor_hostname=report.hypervisor_hostname,
                           vcpus=report.vcpus, memory_mb=report.memory_mb,
                           disk_gb=report.disk_gb)
        case r.Spawned():
            instances.spawned(store, report.instance_id, host_name=report.host,
                              power_state=report.power_state, context=context)
        case r.SpawnFailed():
            instances.spawn_failed(store, report.instance_id, host_name=report.host,
                                   reason=report.message, context=context)
        case r.Deleted():
            instances.deleted(store, report.instance_id, host_name=report.host,
                              context=context)


class Deadlines:
    """How long a step may take before it becomes an event of its own."""

    build = dt.timedelta(minutes=10)
    delete = dt.timedelta(minutes=5)


def sweep(store: EventStore, conn: psycopg.Connection, now: dt.datetime,
          deadlines: Deadlines = Deadlines()) -> int:
    """Fail builds past their deadline; finish deletes whose host is gone. Returns count."""
    context = Context(actor=Actor(agent="conductor"), timestamp=now.isoformat())
    stuck = conn.execute(
        "SELECT s.id::text, s.task_state, s.host, v.last_seen_at FROM servers s"
        " LEFT JOIN services v ON v.host = s.host AND v.binary_name = 'cloud-compute'"
        " WHERE (s.vm_state = %s AND s.updated_at < %s) OR (s.task_state = %s"
        " AND s.updated_at < %s)",
        (states.BUILDING, now - deadlines.build, states.DELETING, now - deadlines.delete),
    ).fetchall()
    done = 0
    for instance_id, task_state, host_name, last_seen in stuck:
        if task_state == states.DELETING:
            if last_seen is not None and now - last_seen < deadlines.delete:
                continue  # the host is alive: its agent will finish (or redelivery will)
            done += bool(instances.deleted(store, instance_id, host_name=host_name,
                                           context=context))
        else:
            fault = Fault(code=500, message=f"Build did not finish within {deadlines.build}"
                                            f" (stuck in {task_state}).")
            done += bool(instances.fail(store, instance_id, fault=fault, context=context))
    return done
