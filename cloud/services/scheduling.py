"""Placing one requested instance: plan from the host projection, claim on the Host
aggregate (the truth), then record the placement; a lost race re-plans."""

import datetime as dt
import logging

from cloud.adapters.eventstore import EventStore
from cloud.domain import states
from cloud.domain.envelope import Context
from cloud.domain.errors import Conflict, HostFull
from cloud.domain.events import Fault
from cloud.domain.host import Claim, Ratios
from cloud.domain.placement import HostView, Placement, RequestSpec, SchedulerConfig, place
from cloud.projections.queries import ReadModels
from cloud.services import hosts, instances
from cloud.services.repository import load_instance

log = logging.getLogger(__name__)
HEARTBEAT_TIMEOUT = dt.timedelta(seconds=60)


def host_views(read_models: ReadModels, now: dt.datetime) -> list[HostView]:
    """The scheduler's picture of the fleet, from the host projection."""
    return [HostView(
        name=row["name"], vcpus=row["vcpus"], memory_mb=row["memory_mb"],
        disk_gb=row["disk_gb"],
        up=row["last_seen_at"] is not None and now - row["last_seen_at"] < HEARTBEAT_TIMEOUT,
        failed_builds=row["failed_builds"],
        used=Claim(vcpus=row["vcpus_used"], memory_mb=row["memory_mb_used"],
                   disk_gb=row["disk_gb_used"]),
    ) for row in read_models.hosts()]


def schedule(store: EventStore, read_models: ReadModels, instance_id: str, *,
             context: Context, config: SchedulerConfig = SchedulerConfig(),
             ratios: Ratios = Ratios()) -> str | None:
    """Place the instance; returns the host, or None when it failed or needs no work."""
    state, _ = load_instance(store, instance_id)
    if state is None or state.task_state != states.SCHEDULING:
        return None
    want = Claim(vcpus=state.flavor.vcpus, memory_mb=state.flavor.ram,
                 disk_gb=state.flavor.disk + state.flavor.ephemeral)
    # A claim left by an attempt that crashed before recording the placement is reused.
    held = read_models.claims_of(instance_id)
    spec = RequestSpec(instance_id=instance_id, want=want, project_id=state.project_id,
                       image_id=state.image_ref, availability_zone=state.availability_zone,
                       ignore_hosts=frozenset(state.failed_hosts))
    plan = place(spec, host_views(read_models, dt.datetime.now(dt.UTC)), config)
    for host_name in held or plan.hosts:
        try:
            hosts.claim(store, host_name, instance_id=instance_id, resources=want,
                        ratios=ratios, context=context)
        except HostFull as refused:
            # The projection lagged behind the aggregate: try the next host.
            log.info("claim on %s refused: %s", host_name, refused)
            continue
        return _record(store, instance_id, host_name, context)
    _no_valid_host(store, instance_id, plan, context)
    return None


def _record(store: EventStore, instance_id: str, host_name: str, context: Context) -> str | None:
    while True:
        try:
            if instances.schedule(store, instance_id, host_name=host_name, context=context):
                return host_name
        except Conflict:
            continue  # the instance changed meanwhile; decide again on the new state
        # The instance moved on (deleted while we planned): give the claim back.
        hosts.release(store, host_name, instance_id=instance_id, context=context)
        return None


def _no_valid_host(store: EventStore, instance_id: str, plan: Placement,
                   context: Context) -> None:
    message = plan.explain()
    if plan.hosts:
        message = (f"No valid host was found. {len(plan.hosts)} hosts passed the filters"
                   " but had no room left when claimed.")
    fault = Fault(code=500, message=message,
                  details=", ".join(f"{k}={v}" for k, v in plan.removed.items()))
    # A Conflict here propagates: the message is redelivered and decided again.
    instances.fail(store, instance_id, fault=fault, context=context)
