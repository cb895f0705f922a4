"""Placing one requested instance: plan from the host projection, claim on the Host
aggregate (the truth), then record the placement; a lost race re-plans."""

import datetime as dt
import logging

from cloud.adapters.eventstore import EventStore
from cloud.domain import states
from cloud.domain.envelope import Context
from cloud.domain.errors import HostFull
from cloud.domain.events import Fault
from cloud.domain.host import Claim, Ratios
from cloud.domain.placement import Placement, SchedulerConfig, place
from cloud.domain.server_group import GroupPolicyViolated
from cloud.projections.queries import ReadModels
from cloud.services import compute_services, hosts, instances, scheduling_hints
from cloud.services.host_fleet import HostFleet
from cloud.services.repository import load_instance

log = logging.getLogger(__name__)


def schedule(store: EventStore, read_models: ReadModels, instance_id: str, *,
             context: Context, config: SchedulerConfig = SchedulerConfig(),
             fleet: HostFleet | None = None) -> str | None:
    """Place the instance; returns the host, or None when it failed or needs no work.

    ``fleet`` is the scheduler process's picture of the hosts, kept between decisions
    (without one, the whole fleet is read for this decision). Each host is claimed with
    its own effective ratios (aggregate over host over default), the numbers it was
    planned with."""
    if fleet is None:
        fleet = HostFleet(read_models, down_time=compute_services.down_time())
    state, _ = load_instance(store, instance_id)
    if state is None or state.task_state != states.SCHEDULING:
        return None
    want = Claim(vcpus=state.flavor.vcpus, memory_mb=state.flavor.ram,
                 disk_gb=state.flavor.disk + state.flavor.ephemeral)
    # A claim left by an attempt that crashed before recording the placement is reused.
    held = read_models.claims_of(instance_id)
    for _ in range(REPLANS):
        # Planned again when a server group refused the hosts of a plan made on an
        # older picture of the group (another scheduler placed a member meanwhile).
        spec = scheduling_hints.request_spec(store, state, want)
        views = fleet.views(dt.datetime.now(dt.UTC))
        plan = place(spec, views, config)
        by_host = {view.name: view.effective_ratios for view in views}
        outcome = _claim_and_record(store, instance_id, held or plan.hosts, want=want,
                                    ratios=by_host, fleet=fleet, context=context)
        if outcome is not _REPLAN:
            if outcome is _EXHAUSTED:
                _no_valid_host(store, instance_id, plan, context)
                return None
            return outcome  # type: ignore[return-value]
        held = []
    _no_valid_host(store, instance_id, plan, context)
    return None


REPLANS = 5
_REPLAN, _EXHAUSTED = object(), object()


def _claim_and_record(store: EventStore, instance_id: str, candidates: list[str], *,
                      want: Claim, ratios: dict[str, Ratios], fleet: HostFleet,
                      context: Context) -> object:
    """The host placed on (None if the instance moved on), else _EXHAUSTED, or
    _REPLAN when a server group refused a host of this plan."""
    refused_by_group = False
    for host_name in candidates:
        try:
            hosts.claim(store, host_name, instance_id=instance_id, resources=want,
                        ratios=ratios.get(host_name), context=context)
        except HostFull as refused:
            # The projection lagged behind the aggregate: try the next host.
            log.info("claim on %s refused: %s", host_name, refused)
            continue
        fleet.claimed(host_name, instance_id, want)
        try:
            return _record(store, instance_id, host_name, context)
        except GroupPolicyViolated as refused:
            log.info("placement on %s refused: %s", host_name, refused)
            hosts.release(store, host_name, instance_id=instance_id, context=context)
            refused_by_group = True
    return _REPLAN if refused_by_group else _EXHAUSTED


def _record(store: EventStore, instance_id: str, host_name: str, context: Context) -> str | None:
    if scheduling_hints.record(store, instance_id, host_name, context=context):
        return host_name
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
