"""The Instance aggregate: decide what happens to a server, then evolve its state."""

import re

import msgspec

from cloud.domain import states
from cloud.domain.errors import InvalidTransition
from cloud.domain.events import (
    Event,
    Fault,
    FlavorSpec,
    InstanceDeleted,
    InstanceDeleteRequested,
    InstanceFailed,
    InstanceRequested,
    InstanceRescheduled,
    InstanceScheduled,
    InstanceSpawned,
)


class Instance(msgspec.Struct, frozen=True, kw_only=True):
    id: str
    name: str
    project_id: str
    user_id: str
    flavor: FlavorSpec
    image_ref: str
    vm_state: str = states.BUILDING
    task_state: str | None = states.SCHEDULING
    power_state: int = states.NOSTATE
    host: str | None = None
    availability_zone: str | None = None
    failed_hosts: tuple[str, ...] = ()


# --- decide: state + intent -> events (raises when the intent is refused) -------------


def request(instance_id: str, *, name: str, project_id: str, user_id: str,
            flavor: FlavorSpec, image_ref: str, metadata: dict[str, str] | None = None,
            availability_zone: str | None = None, key_name: str | None = None,
            reservation_id: str = "", user_data: str | None = None,
            description: str | None = None) -> list[Event]:
    """A user asks for a new server."""
    return [InstanceRequested(
        name=name, project_id=project_id, user_id=user_id, flavor=flavor,
        image_ref=image_ref, metadata=metadata or {},
        availability_zone=availability_zone, key_name=key_name,
        hostname=hostname(name) or f"Server-{instance_id}",
        reservation_id=reservation_id, user_data=user_data, description=description,
    )]


def hostname(name: str) -> str:
    """Nova's hostname for a display name: RFC 952/1123 characters, at most 63."""
    latin1 = name.encode("latin-1", "ignore").decode("latin-1")[:63]
    dashed = re.sub(r"[ _.]", "-", latin1)
    return re.sub(r"[^\w.-]+", "", dashed).lower().strip(".-")


def schedule(instance: Instance, *, host: str, node: str) -> list[Event]:
    """The scheduler placed the server; empty if it was placed already or went away."""
    if instance.task_state != states.SCHEDULING:
        return []
    return [InstanceScheduled(host=host, node=node, name=instance.name,
                              flavor=instance.flavor, image_ref=instance.image_ref)]


def spawned(instance: Instance, *, host: str, power_state: int) -> list[Event]:
    """The compute agent reports the domain running."""
    if instance.task_state != states.SPAWNING or instance.host != host:
        return []
    return [InstanceSpawned(host=host, power_state=power_state)]


def fail(instance: Instance, *, fault: Fault, host: str | None = None) -> list[Event]:
    """A build went wrong (no host, spawn error, deadline passed)."""
    if instance.vm_state != states.BUILDING or instance.task_state == states.DELETING:
        return []
    if host is not None and instance.host != host:
        return []
    return [InstanceFailed(fault=fault, host=instance.host)]


def spawn_failed(instance: Instance, *, host: str, reason: str,
                 max_attempts: int) -> list[Event]:
    """A host could not spawn the guest: try another host, or give up after max_attempts."""
    if instance.task_state != states.SPAWNING or instance.host != host:
        return []
    attempt = len(instance.failed_hosts) + 1
    if attempt < max_attempts:
        return [InstanceRescheduled(failed_host=host, attempt=attempt, reason=reason)]
    tried = ", ".join((*instance.failed_hosts, host))
    return [InstanceFailed(host=host, fault=Fault(
        code=500, message=f"Exceeded maximum number of retries. Exhausted all hosts"
                          f" available for retrying build failures for instance"
                          f" {instance.id}.", details=f"tried {tried}; last: {reason}"))]


def request_delete(instance: Instance) -> list[Event]:
    """A user deletes the server: a host must tear it down, unless it never had one."""
    if instance.vm_state == states.DELETED:
        raise InvalidTransition(instance.id, instance.vm_state, "delete")
    if instance.task_state == states.DELETING:
        return []
    if instance.host is None:
        return [InstanceDeleteRequested(host=None), InstanceDeleted(host=None)]
    return [InstanceDeleteRequested(host=instance.host)]


def deleted(instance: Instance, *, host: str | None) -> list[Event]:
    """The host has destroyed the domain (or the delete finished without one)."""
    if instance.task_state != states.DELETING or instance.host != host:
        return []
    return [InstanceDeleted(host=host)]


# --- evolve: state + event -> state (never fails, so any log replays) ------------------


def evolve(instance: Instance | None, instance_id: str, event: Event) -> Instance | None:
    """Apply one recorded event."""
    if isinstance(event, InstanceRequested):
        return Instance(id=instance_id, name=event.name, project_id=event.project_id,
                        user_id=event.user_id, flavor=event.flavor, image_ref=event.image_ref,
                        availability_zone=event.availability_zone)
    if instance is None:
        return None
    return msgspec.structs.replace(instance, **_changes(instance, event))


def _changes(instance: Instance, event: Event) -> dict[str, object]:
    match event:
        case InstanceScheduled(host=host):
            return {"host": host, "task_state": states.SPAWNING}
        case InstanceSpawned(power_state=power_state):
            return {"vm_state": states.ACTIVE, "task_state": None, "power_state": power_state}
        case InstanceFailed():
            return {"vm_state": states.ERROR, "task_state": None}
        case InstanceRescheduled(failed_host=failed_host):
            return {"host": None, "task_state": states.SCHEDULING,
                    "failed_hosts": (*instance.failed_hosts, failed_host)}
        case InstanceDeleteRequested():
            return {"task_state": states.DELETING}
        case InstanceDeleted():
            return {"vm_state": states.DELETED, "task_state": None,
                    "power_state": states.NOSTATE}
    return {}
