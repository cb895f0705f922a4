"""What the conductor does with each compute report, and its deadline sweep."""

import datetime as dt
import logging

import psycopg

from cloud.adapters.eventstore import EventStore
from cloud.agents import reports as r
from cloud.domain import lifecycle, states
from cloud.domain.envelope import Actor, Context
from cloud.domain.events import EVENT_TYPES, Fault, InstanceActionDone, InstanceRebuilt
from cloud.domain.service import COMPUTE
from cloud.services import hosts, instances, server_actions
from cloud.services.repository import load_instance

log = logging.getLogger(__name__)


def context_of(report: r.Report, timestamp: str) -> Context:
    return Context(request_id=report.request_id,
                   actor=Actor(agent=f"compute:{report.host}"), timestamp=timestamp)


def record_heartbeat(conn: psycopg.Connection, host: str, binary: str, at: str) -> None:
    """Liveness is one overwritten row per service, not history."""
    conn.execute("INSERT INTO services (host, binary_name, last_seen_at) VALUES (%s, %s, %s)"
                 " ON CONFLICT (host, binary_name)"
                 " DO UPDATE SET last_seen_at = EXCLUDED.last_seen_at", (host, binary, at))


def apply(store: EventStore, report: r.Report, context: Context) -> None:
    """Turn one report into events (each use case is idempotent)."""
    match report:
        case r.Registered():
            hosts.register(store, report.host, context=context,
                           hypervisor_type=report.hypervisor_type,
                           hypervisor_hostname=report.hypervisor_hostname,
                           vcpus=report.vcpus, memory_mb=report.memory_mb,
                           disk_gb=report.disk_gb,
                           cpu_allocation_ratio=report.cpu_allocation_ratio,
                           ram_allocation_ratio=report.ram_allocation_ratio,
                           disk_allocation_ratio=report.disk_allocation_ratio)
        case r.Spawned():
            instances.spawned(store, report.instance_id, host_name=report.host,
                              power_state=report.power_state, context=context)
        case r.SpawnFailed():
            instances.spawn_failed(store, report.instance_id, host_name=report.host,
                                   reason=report.message, context=context)
        case r.Deleted():
            instances.deleted(store, report.instance_id, host_name=report.host,
                              context=context)
        case r.ActionDone():
            server_actions.done(store, report.instance_id, _done_event(report),
                                context=context)
        case r.ActionFailed():
            server_actions.failed(store, report.instance_id, host_name=report.host,
                                  task_state=report.task_state, message=report.message,
                                  context=context)
        case r.PowerStates():
            _observe(store, report, context)


def _done_event(report: r.ActionDone) -> InstanceActionDone:
    kind = EVENT_TYPES.get(report.event)
    if kind is None or not issubclass(kind, InstanceActionDone):
        raise ValueError(f"{report.event} is not an action-done event")
    extra = {"image_ref": report.image_ref} if kind is InstanceRebuilt else {}
    return kind(host=report.host, power_state=report.power_state, **extra)


def _observe(store: EventStore, report: r.PowerStates, context: Context) -> None:
    """Record power states that differ from the log; name guests no server owns."""
    for instance_id, power_state in report.guests.items():
        state, _ = load_instance(store, instance_id)
        if state is None or state.host != report.host or state.vm_state == states.DELETED:
            log.warning("host %s runs guest %s that no server of that host owns",
                        report.host, instance_id)
            continue
        server_actions.power_observed(store, instance_id, host_name=report.host,
                                      power_state=power_state, context=context)


class Deadlines:
    """How long a step may take before it becomes an event of its own."""

    build = dt.timedelta(minutes=10)
    delete = dt.timedelta(minutes=5)
    # Stop, start, reboot, resize…: a graceful shutdown alone may take a minute.
    action = dt.timedelta(minutes=5)


def sweep(store: EventStore, conn: psycopg.Connection, now: dt.datetime,
          deadlines: Deadlines = Deadlines()) -> int:
    """Fail builds past their deadline; finish deletes whose host is gone. Returns count."""
    context = Context(actor=Actor(agent="conductor"), timestamp=now.isoformat())
    stuck = conn.execute(
        "SELECT s.id::text, s.task_state, s.host, v.last_seen_at FROM servers s"
        f" LEFT JOIN services v ON v.host = s.host AND v.binary_name = '{COMPUTE}'"
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
    return done + _expire_actions(store, conn, now, deadlines, context)


def _expire_actions(store: EventStore, conn: psycopg.Connection, now: dt.datetime,
                    deadlines: Deadlines, context: Context) -> int:
    """An action its host never finished leaves the server in ERROR with a fault,
    never in an eternal task_state."""
    stuck = conn.execute(
        "SELECT id::text, task_state, host FROM servers WHERE task_state = ANY(%s)"
        " AND updated_at < %s AND host IS NOT NULL",
        ([a.task for a in lifecycle.ACTIONS.values()], now - deadlines.action)).fetchall()
    done = 0
    for instance_id, task_state, host_name in stuck:
        message = (f"{task_state} did not finish on {host_name} within {deadlines.action}.")
        done += bool(server_actions.failed(store, instance_id, host_name=host_name,
                                           task_state=task_state, message=message,
                                           context=context, to_error=True))
    return done
