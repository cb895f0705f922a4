"""Server groups and host aggregates: given events, when a command, then events or a
refusal. No I/O."""

import msgspec
import pytest

from cloud.domain import aggregate, server_group
from cloud.domain import events as ev
from cloud.domain.errors import Invalid, QuotaExceeded


def a_group(policy, placed=(), rules=None):
    group = server_group.evolve(None, "g", ev.ServerGroupCreated(
        name="g", project_id="p", user_id="u", policy=policy, rules=rules or {}))
    for member, host in placed:
        group = server_group.evolve(group, "g", ev.ServerGroupMemberAdded(instance_id=member))
        group = server_group.evolve(group, "g", ev.ServerGroupMemberPlaced(
            instance_id=member, host=host))
    return group


def test_anti_affinity_refuses_a_taken_host_unless_its_member_is_gone():
    group = a_group("anti-affinity", [("a", "h1")])
    with pytest.raises(server_group.GroupPolicyViolated):
        server_group.place(group, instance_id="b", host="h1", live={"a", "b"})
    assert server_group.place(group, instance_id="b", host="h1", live={"b"}) == [
        ev.ServerGroupMemberPlaced(instance_id="b", host="h1")]
    assert server_group.place(group, instance_id="b", host="h2", live={"a", "b"})


def test_max_server_per_host_allows_that_many():
    group = a_group("anti-affinity", [("a", "h1")], rules={"max_server_per_host": 2})
    assert server_group.place(group, instance_id="b", host="h1", live={"a", "b"})
    group = a_group("anti-affinity", [("a", "h1"), ("b", "h1")],
                    rules={"max_server_per_host": 2})
    with pytest.raises(server_group.GroupPolicyViolated):
        server_group.place(group, instance_id="c", host="h1", live={"a", "b", "c"})


def test_affinity_follows_the_first_member_and_a_replacement_is_not_counted():
    group = a_group("affinity", [("a", "h1")])
    with pytest.raises(server_group.GroupPolicyViolated):
        server_group.place(group, instance_id="b", host="h2", live={"a", "b"})
    # A member placed again (rescheduled) does not count against itself.
    assert server_group.place(group, instance_id="a", host="h2", live={"a"})


def test_rules_only_for_anti_affinity_and_member_quota():
    with pytest.raises(Invalid):
        server_group.create("g", name="g", project_id="p", user_id="u", policy="affinity",
                            rules={"max_server_per_host": 2})
    group = a_group("affinity", [("a", "h1")])
    with pytest.raises(QuotaExceeded):
        server_group.add_members(group, "g", instance_ids=["b"], live_members=1, limit=1)


def test_hints_name_a_group_and_servers():
    assert server_group.hinted_group({"group": ["x"]}) == "x"
    assert server_group.hinted_servers({"same_host": "s"}, "same_host") == {"s"}
    assert server_group.hinted_servers({}, "different_host") == frozenset()


def test_aggregate_zone_is_metadata_and_names_move_on_rename():
    state = aggregate.evolve(None, "a", ev.AggregateCreated(name="n", availability_zone="z"))
    assert state.metadata == {"availability_zone": "z"}
    events = aggregate.update(state, "1", name="m", availability_zone=msgspec.UNSET,
                              host_zones={})
    assert events == [ev.AggregateRenamed(name="m")]
    state = aggregate.evolve(state, "a", ev.AggregateHostAdded(host="h"))
    with pytest.raises(aggregate.AggregateActionRefused):
        aggregate.delete(state, "1")
    with pytest.raises(aggregate.AggregateActionRefused):
        aggregate.set_metadata(state, "1", {"availability_zone": "y"},
                               host_zones={"h": {"x"}})
