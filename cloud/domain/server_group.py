"""The ServerGroup aggregate: a policy over where its members may run.

Members join when they are requested (``ServerGroupMemberAdded``, saved with the
``InstanceRequested``) and are placed by the scheduler (``ServerGroupMemberPlaced``,
saved with the ``InstanceScheduled`` expecting the group's version). Because every
placement of a member moves the group's version, two schedulers placing members of one
group at once cannot both save: the loser decides again on the group as it now is, and
``place`` refuses a host that would break a strict policy. The group is the truth the
placement filters only approximate.
"""

import msgspec

from cloud.domain import events as ev
from cloud.domain.errors import DomainError, Invalid, NotFound, QuotaExceeded
from cloud.domain.placement.model import GroupView

AFFINITY, ANTI_AFFINITY = "affinity", "anti-affinity"
SOFT_AFFINITY, SOFT_ANTI_AFFINITY = "soft-affinity", "soft-anti-affinity"
POLICIES = (AFFINITY, ANTI_AFFINITY, SOFT_AFFINITY, SOFT_ANTI_AFFINITY)
MAX_PER_HOST = "max_server_per_host"


class ServerGroup(msgspec.Struct, frozen=True, kw_only=True):
    id: str
    name: str
    project_id: str
    user_id: str
    policy: str
    rules: dict[str, int] = {}
    members: dict[str, str | None] = {}  # instance id -> host once placed
    deleted: bool = False

    @property
    def max_server_per_host(self) -> int:
        return self.rules.get(MAX_PER_HOST, 1)


class GroupNotFound(NotFound):
    def __init__(self, group_id: str) -> None:
        DomainError.__init__(self, f"Instance group {group_id} could not be found.")
        self.kind, self.key = "Instance group", group_id


class GroupPolicyViolated(Invalid):
    """The host chosen for a member breaks the group's policy (decide again)."""

    def __init__(self, group_id: str, host: str, policy: str) -> None:
        super().__init__(f"Host {host} would break the {policy} policy of server group"
                         f" {group_id}.")
        self.host = host


# --- decide ---------------------------------------------------------------------------


def create(group_id: str, *, name: str, project_id: str, user_id: str, policy: str,
           rules: dict[str, int] | None = None) -> list[ev.Event]:
    """A new group; rules are for anti-affinity only (Nova's 400)."""
    if policy not in POLICIES:
        raise Invalid(f"Invalid server group policy {policy!r}.")
    rules = rules or {}
    if rules and policy != ANTI_AFFINITY:
        raise Invalid("Only anti-affinity policy supports rules.")
    if rules.get(MAX_PER_HOST, 1) < 1:
        raise Invalid(f"Invalid input for field/attribute {MAX_PER_HOST}: it must be a"
                      " positive integer.")
    return [ev.ServerGroupCreated(name=name, project_id=project_id, user_id=user_id,
                                  policy=policy, rules=dict(rules))]


def _alive(group: ServerGroup | None, group_id: str) -> ServerGroup:
    if group is None or group.deleted:
        raise GroupNotFound(group_id)
    return group


def delete(group: ServerGroup | None, group_id: str) -> list[ev.Event]:
    _alive(group, group_id)
    return [ev.ServerGroupDeleted()]


def add_members(group: ServerGroup | None, group_id: str, *, instance_ids: list[str],
                live_members: int, limit: int) -> list[ev.Event]:
    """New servers join; refused past ``server_group_members`` (-1: unlimited)."""
    current = _alive(group, group_id)
    joining = [member for member in instance_ids if member not in current.members]
    if limit != -1 and joining and live_members + len(joining) > limit:
        raise QuotaExceeded("Quota exceeded, too many servers in group")
    return [ev.ServerGroupMemberAdded(instance_id=member) for member in joining]


def members_per_host(group: ServerGroup, *, live: set[str],
                     excluding: str = "") -> dict[str, int]:
    """How many live members each host runs (``excluding`` one member: the one placed)."""
    counts: dict[str, int] = {}
    for member, host in group.members.items():
        if host is not None and member in live and member != excluding:
            counts[host] = counts.get(host, 0) + 1
    return counts


def allows(group: ServerGroup, host: str, counts: dict[str, int]) -> bool:
    """Whether a strict policy lets one more member run on ``host``."""
    if group.policy == AFFINITY:
        return not counts or host in counts
    if group.policy == ANTI_AFFINITY:
        return counts.get(host, 0) < group.max_server_per_host
    return True


def place(group: ServerGroup | None, *, instance_id: str, host: str,
          live: set[str]) -> list[ev.Event]:
    """Record a member's host; refused when it breaks a strict policy. A deleted group
    constrains nothing any more."""
    if group is None or group.deleted:
        return []
    if group.members.get(instance_id) == host:
        return []
    if not allows(group, host, members_per_host(group, live=live, excluding=instance_id)):
        raise GroupPolicyViolated(group.id, host, group.policy)
    return [ev.ServerGroupMemberPlaced(instance_id=instance_id, host=host)]


def view(group: ServerGroup, *, instance_id: str, live: set[str]) -> GroupView:
    """What the placement filters and weighers see of the group."""
    return GroupView(policy=group.policy, max_server_per_host=group.max_server_per_host,
                     members_per_host=members_per_host(group, live=live,
                                                       excluding=instance_id))


# --- scheduler hints ------------------------------------------------------------------


def hinted_group(hints: dict[str, object]) -> str | None:
    """The group a server asked for (Nova accepts a one-item list too)."""
    group = hints.get("group")
    if isinstance(group, list):
        group = group[0] if group else None
    return group if isinstance(group, str) and group else None


def hinted_servers(hints: dict[str, object], key: str) -> frozenset[str]:
    """``same_host`` / ``different_host``: one server id or a list of them."""
    value = hints.get(key)
    if isinstance(value, str):
        return frozenset({value})
    if isinstance(value, list):
        return frozenset(item for item in value if isinstance(item, str))
    return frozenset()


# --- evolve ---------------------------------------------------------------------------


def evolve(group: ServerGroup | None, group_id: str, event: ev.Event) -> ServerGroup | None:
    """Apply one recorded event."""
    if isinstance(event, ev.ServerGroupCreated):
        return ServerGroup(id=group_id, name=event.name, project_id=event.project_id,
                           user_id=event.user_id, policy=event.policy, rules=event.rules)
    if group is None:
        return None
    match event:
        case ev.ServerGroupMemberAdded(instance_id=member):
            return msgspec.structs.replace(group, members={**group.members, member: None})
        case ev.ServerGroupMemberPlaced(instance_id=member, host=host):
            return msgspec.structs.replace(group, members={**group.members, member: host})
        case ev.ServerGroupDeleted():
            return msgspec.structs.replace(group, deleted=True)
    return group
