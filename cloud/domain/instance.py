"""The Instance aggregate: decide what happens to a server, then evolve its state."""

import re

import msgspec

from cloud.domain import lifecycle, rebuild, states
from cloud.domain import events as ev
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
    locked: bool = False
    locked_by: str | None = None
    locked_reason: str | None = None
    # The flavor before a resize, kept until it is confirmed or reverted.
    old_flavor: FlavorSpec | None = None
    # The vm_state before a resize (Nova's old_vm_state): a revert leaves a server that
    # was stopped stopped. Kept, like old_flavor, until the resize is confirmed or reverted.
    old_vm_state: str | None = None
    # The flavor a resize in progress is giving it.
    pending_flavor: FlavorSpec | None = None
    # What a user edits (server_edits.py decides): shown as is, checked for quotas.
    description: str | None = None
    hostname: str = ""
    access_ipv4: str = ""
    access_ipv6: str = ""
    metadata: dict[str, str] = {}
    tags: tuple[str, ...] = ()
    # OS-SCH-HNT:scheduler_hints as requested: the scheduler reads group/same_host/...
    scheduler_hints: dict[str, object] = {}
    # The host an admin asked for at create (2.74): the only one the scheduler tries.
    requested_host: str | None = None


# --- decide: state + intent -> events (raises when the intent is refused) -------------


def request(instance_id: str, *, name: str, project_id: str, user_id: str,
            flavor: FlavorSpec, image_ref: str, metadata: dict[str, str] | None = None,
            availability_zone: str | None = None, key_name: str | None = None,
            reservation_id: str = "", user_data: str | None = None,
            description: str | None = None, tags: list[str] | None = None,
            access_ipv4: str | None = None, access_ipv6: str | None = None,
            launch_index: int = 0,
            scheduler_hints: dict[str, object] | None = None,
            requested_hostname: str | None = None,
            trusted_image_certificates: list[str] | None = None,
            requested_host: str | None = None) -> list[Event]:
    """A user asks for a new server (its hostname from its name unless given, 2.90)."""
    return [InstanceRequested(
        name=name, project_id=project_id, user_id=user_id, flavor=flavor,
        image_ref=image_ref, metadata=metadata or {},
        availability_zone=availability_zone, key_name=key_name,
        hostname=requested_hostname or hostname(name) or f"Server-{instance_id}",
        reservation_id=reservation_id, user_data=user_data, description=description,
        tags=sorted(set(tags or ())), access_ipv4=access_ipv4, access_ipv6=access_ipv6,
        launch_index=launch_index, scheduler_hints=scheduler_hints or {},
        trusted_image_certificates=trusted_image_certificates,
        requested_host=requested_host,
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
                        availability_zone=event.availability_zone,
                        description=event.description, hostname=event.hostname,
                        access_ipv4=event.access_ipv4 or "",
                        access_ipv6=event.access_ipv6 or "",
                        metadata=event.metadata, tags=tuple(event.tags),
                        scheduler_hints=event.scheduler_hints,
                        requested_host=event.requested_host)
    if instance is None:
        return None
    return msgspec.structs.replace(instance, **_changes(instance, event))


def _changes(instance: Instance, event: Event) -> dict[str, object]:
    if isinstance(event, _EDITS):
        return _edit_changes(instance, event)
    if isinstance(event, ev.InstanceActionRequested | ev.InstanceActionDone):
        return _action_changes(instance, event)
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
        case ev.InstanceActionFailed(vm_state=vm_state):
            return {"vm_state": vm_state, "task_state": None, "pending_flavor": None}
        case ev.InstanceResizeConfirmed():
            return {"old_flavor": None, "old_vm_state": None,
                    "vm_state": lifecycle.running_or_stopped(instance.power_state)}
        case ev.InstanceLocked(reason=reason, by=by):
            return {"locked": True, "locked_by": by, "locked_reason": reason}
        case ev.InstanceUnlocked():
            return {"locked": False, "locked_by": None, "locked_reason": None}
        case ev.InstanceStateReset(vm_state=vm_state):
            return {"vm_state": vm_state, "task_state": None}
        case ev.InstancePowerObserved(vm_state=vm_state, power_state=power_state):
            return {"vm_state": vm_state, "power_state": power_state}
    return {}


def _action_changes(instance: Instance, event: Event) -> dict[str, object]:
    """A host was asked to act (the task starts) or reports it done (the task ends)."""
    if isinstance(event, ev.InstanceResizeRequested):
        return {"task_state": lifecycle.task_of(event), "pending_flavor": event.flavor}
    if isinstance(event, ev.InstanceRebuildRequested):
        # Only the fields the instance keeps (key_name and user_data live in the views).
        kept = {k: v for k, v in rebuild.changes(event).items()
                if k in ("name", "description", "hostname", "metadata")}
        return {"task_state": lifecycle.task_of(event), **kept}
    if isinstance(event, ev.InstanceActionRequested):
        return {"task_state": lifecycle.task_of(event)}
    changes: dict[str, object] = {
        "vm_state": lifecycle.vm_state_after(event),  # type: ignore[arg-type]
        "task_state": None, "power_state": event.power_state}  # type: ignore[attr-defined]
    match event:
        case ev.InstanceRebuilt(image_ref=image_ref):
            changes["image_ref"] = image_ref
        case ev.InstanceResized():
            changes["old_flavor"] = instance.flavor
            changes["old_vm_state"] = instance.vm_state
            changes["flavor"] = instance.pending_flavor or instance.flavor
            changes["pending_flavor"] = None
        case ev.InstanceResizeReverted():
            changes["flavor"] = instance.old_flavor or instance.flavor
            changes["old_flavor"] = None
            changes["old_vm_state"] = None
    return changes


# A user's edits of the server (update, metadata, tags), decided in server_edits.py.
_EDITS = (ev.InstanceUpdated, ev.InstanceMetadataSet, ev.InstanceMetadataDeleted,
          ev.InstanceTagsSet, ev.InstanceTagAdded, ev.InstanceTagDeleted)


def _edit_changes(instance: Instance, event: Event) -> dict[str, object]:
    match event:
        case ev.InstanceUpdated():
            return {field: value for field, value in msgspec.structs.asdict(event).items()
                    if value is not msgspec.UNSET}
        case ev.InstanceMetadataSet(metadata=metadata):
            return {"metadata": dict(metadata)}
        case ev.InstanceMetadataDeleted(key=key):
            return {"metadata": {k: v for k, v in instance.metadata.items() if k != key}}
        case ev.InstanceTagsSet(tags=tags):
            return {"tags": tuple(sorted(set(tags)))}
        case ev.InstanceTagAdded(tag=tag):
            return {"tags": tuple(sorted({*instance.tags, tag}))}
        case ev.InstanceTagDeleted(tag=tag):
            return {"tags": tuple(t for t in instance.tags if t != tag)}
    return {}
