"""What aggregates, availability zones, server groups and scheduler hints add to a
placement: the request's side (RequestSpec fields), the hosts' side (their aggregates
and instances), and recording a placement together with the member's group.

Why a group member's placement is race-free: the scheduler saves ``InstanceScheduled``
and ``ServerGroupMemberPlaced`` in one transaction that expects the group's version.
Two schedulers placing members of one group at once both read version v; the first save
moves the group to v+1, the second fails with a version conflict, loads the group again
and ``server_group.place`` re-checks the host against the members as they now stand
(a strict anti-affinity host already taken is refused: the scheduler gives its claim
back and tries its next host). Serialising per group was the alternative; optimistic
concurrency needs no lock across scheduler processes, and groups are rarely contended.
"""

import uuid

from cloud.adapters.eventstore import Batch, EventStore
from cloud.domain import instance, server_group
from cloud.domain.envelope import Context
from cloud.domain.errors import Conflict
from cloud.domain.host import Claim
from cloud.domain.instance import Instance
from cloud.domain.placement import RequestSpec
from cloud.services import server_groups
from cloud.services.repository import load_instance

ATTEMPTS = 30


def request_spec(store: EventStore, state: Instance, want: Claim) -> RequestSpec:
    """The instance to place with its zone, flavor extra specs, hints and group."""
    hints = state.scheduler_hints
    group_id = server_group.hinted_group(hints)
    group = (server_groups.group_view(store, group_id, instance_id=state.id)
             if group_id else None)
    return RequestSpec(
        instance_id=state.id, want=want, project_id=state.project_id,
        image_id=state.image_ref, availability_zone=state.availability_zone,
        ignore_hosts=frozenset(state.failed_hosts), requested_host=state.requested_host,
        flavor_extra_specs=dict(getattr(state.flavor, "extra_specs", None) or {}),
        same_host=server_group.hinted_servers(hints, "same_host"),
        different_host=server_group.hinted_servers(hints, "different_host"),
        group=group)


def record(store: EventStore, instance_id: str, host_name: str, *,
           context: Context) -> bool:
    """Save the placement (and the member's host on its group, same transaction).
    False when the instance no longer waits for one. Raises GroupPolicyViolated."""
    for _ in range(ATTEMPTS):
        state, version = load_instance(store, instance_id)
        if state is None:
            return False
        events = instance.schedule(state, host=host_name, node=host_name)
        if not events:
            return False
        batches = [Batch(uuid.UUID(instance_id), instance_id, version, events)]
        group_id = server_group.hinted_group(state.scheduler_hints)
        if group_id is not None:
            batches.append(server_groups.placement_batch(
                store, group_id, instance_id=instance_id, host=host_name))
        try:
            store.append(*batches, context=context)
            return True
        except Conflict:
            continue  # the instance or its group moved: decide again on both
    raise Conflict(f"instance {instance_id} stayed contended while being scheduled")
