"""Read models for host aggregates, availability zones, server groups and scheduler hints:
tables (DDL) and how each event changes them (FOLDS).

An aggregate's integer ``id`` (Nova's) is its rank in creation order, as key pairs' ids
are: the fold takes the next number after the largest ever given and deleted rows stay,
so a replay gives every aggregate its number again.

A server's zone is fixed when it is scheduled, as Nova fixes it: the zone its host is in
at that point of the log (folds run in log order, so a replay finds the same zone).
"""

import msgspec
from psycopg import Cursor

from cloud.domain import events as ev
from cloud.domain.aggregate import AZ_KEY
from cloud.domain.envelope import Envelope
from cloud.projections.folds import Fold, zone_of
from cloud.projections.setwise import Folded, SetFold, one_server, rows, unnest

_json = msgspec.json.encode

DDL = """
CREATE TABLE IF NOT EXISTS aggregates (
    id bigint PRIMARY KEY,
    uuid uuid NOT NULL UNIQUE,
    name text NOT NULL,
    created_at timestamptz NOT NULL,
    updated_at timestamptz,
    deleted_at timestamptz
);
CREATE TABLE IF NOT EXISTS aggregate_hosts (
    aggregate_uuid uuid NOT NULL,
    host text NOT NULL,
    added_at timestamptz NOT NULL,
    PRIMARY KEY (aggregate_uuid, host)
);
CREATE INDEX IF NOT EXISTS aggregate_hosts_host ON aggregate_hosts (host);
CREATE TABLE IF NOT EXISTS aggregate_metadata (
    aggregate_uuid uuid NOT NULL,
    key text NOT NULL,
    value text NOT NULL,
    PRIMARY KEY (aggregate_uuid, key)
);
CREATE TABLE IF NOT EXISTS server_groups (
    id uuid PRIMARY KEY,
    name text NOT NULL,
    project_id text NOT NULL,
    user_id text NOT NULL,
    policy text NOT NULL,
    rules jsonb NOT NULL DEFAULT '{}',
    created_at timestamptz NOT NULL,
    deleted_at timestamptz
);
CREATE TABLE IF NOT EXISTS server_group_members (
    group_id uuid NOT NULL,
    instance_id uuid NOT NULL,
    host text,
    position bigint NOT NULL,
    PRIMARY KEY (group_id, instance_id)
);
CREATE INDEX IF NOT EXISTS server_group_members_instance ON server_group_members (instance_id);
CREATE TABLE IF NOT EXISTS server_scheduler_hints (
    instance_id uuid PRIMARY KEY,
    hints jsonb NOT NULL
);
"""


# --- aggregates -----------------------------------------------------------------------


def aggregate_created(cur: Cursor, env: Envelope) -> None:
    """A row numbered after the largest number ever given (+ its zone as metadata)."""
    e: ev.AggregateCreated = env.data  # type: ignore[assignment]
    cur.execute("INSERT INTO aggregates SELECT coalesce(max(id), 0) + 1, %s, %s, %s,"
                " NULL, NULL FROM aggregates ON CONFLICT (uuid) DO NOTHING",
                (env.id, e.name, env.timestamp))
    if e.availability_zone:
        _set_metadata(cur, env.id, {AZ_KEY: e.availability_zone})


def _touch(cur: Cursor, env: Envelope) -> None:
    cur.execute("UPDATE aggregates SET updated_at = %s WHERE uuid = %s",
                (env.timestamp, env.id))


def _set_metadata(cur: Cursor, aggregate_uuid: str, values: dict[str, str]) -> None:
    for key, value in values.items():
        cur.execute("INSERT INTO aggregate_metadata VALUES (%s, %s, %s) ON CONFLICT"
                    " (aggregate_uuid, key) DO UPDATE SET value = EXCLUDED.value",
                    (aggregate_uuid, key, value))


def aggregate_renamed(cur: Cursor, env: Envelope) -> None:
    e: ev.AggregateRenamed = env.data  # type: ignore[assignment]
    cur.execute("UPDATE aggregates SET name = %s WHERE uuid = %s", (e.name, env.id))
    _touch(cur, env)


def aggregate_metadata_set(cur: Cursor, env: Envelope) -> None:
    e: ev.AggregateMetadataSet = env.data  # type: ignore[assignment]
    cur.execute("DELETE FROM aggregate_metadata WHERE aggregate_uuid = %s"
                " AND key = ANY(%s)", (env.id, list(e.removed)))
    _set_metadata(cur, env.id, e.metadata)
    _touch(cur, env)


def aggregate_host_added(cur: Cursor, env: Envelope) -> None:
    e: ev.AggregateHostAdded = env.data  # type: ignore[assignment]
    cur.execute("INSERT INTO aggregate_hosts VALUES (%s, %s, %s) ON CONFLICT DO NOTHING",
                (env.id, e.host, env.timestamp))


def aggregate_host_removed(cur: Cursor, env: Envelope) -> None:
    e: ev.AggregateHostRemoved = env.data  # type: ignore[assignment]
    cur.execute("DELETE FROM aggregate_hosts WHERE aggregate_uuid = %s AND host = %s",
                (env.id, e.host))


def aggregate_deleted(cur: Cursor, env: Envelope) -> None:
    """The row stays, marked deleted, so that its number is not given again."""
    cur.execute("UPDATE aggregates SET deleted_at = %s WHERE uuid = %s",
                (env.timestamp, env.id))
    cur.execute("DELETE FROM aggregate_metadata WHERE aggregate_uuid = %s", (env.id,))


# --- server groups --------------------------------------------------------------------


def server_group_created(cur: Cursor, env: Envelope) -> None:
    e: ev.ServerGroupCreated = env.data  # type: ignore[assignment]
    cur.execute("INSERT INTO server_groups VALUES (%s, %s, %s, %s, %s, %s, %s, NULL)"
                " ON CONFLICT (id) DO NOTHING",
                (env.id, e.name, e.project_id, e.user_id, e.policy,
                 _json(e.rules).decode(), env.timestamp))


def server_group_member_added(cur: Cursor, env: Envelope) -> None:
    e: ev.ServerGroupMemberAdded = env.data  # type: ignore[assignment]
    cur.execute("INSERT INTO server_group_members VALUES (%s, %s, NULL, %s)"
                " ON CONFLICT DO NOTHING", (env.id, e.instance_id, env.version))


def server_group_member_placed(cur: Cursor, env: Envelope) -> None:
    e: ev.ServerGroupMemberPlaced = env.data  # type: ignore[assignment]
    cur.execute("UPDATE server_group_members SET host = %s WHERE group_id = %s"
                " AND instance_id = %s", (e.host, env.id, e.instance_id))


def server_group_deleted(cur: Cursor, env: Envelope) -> None:
    cur.execute("UPDATE server_groups SET deleted_at = %s WHERE id = %s",
                (env.timestamp, env.id))
    cur.execute("DELETE FROM server_group_members WHERE group_id = %s", (env.id,))


# --- what servers asked of the scheduler, and the zone they got ------------------------


def _hinted(env: Envelope) -> bool:
    """Whether a request asked the scheduler anything (else _hints has nothing to do)."""
    return bool(env.data.scheduler_hints)  # type: ignore[attr-defined]


def _hints(cur: Cursor, events: list[Folded]) -> None:
    asked = [f for f in events if _hinted(f.env)]
    if asked:
        cur.execute("INSERT INTO server_scheduler_hints SELECT * FROM "
                    + unnest(id="uuid", hints="jsonb") + " ON CONFLICT DO NOTHING",
                    rows(asked, lambda f: f.env.id,
                         lambda f: _json(f.env.data.scheduler_hints).decode()))


# The zone of the host a server is scheduled to, if its host has one.
_ZONE = (f"UPDATE servers s SET availability_zone = coalesce({zone_of('p.host')},"
         " s.availability_zone) FROM " + unnest(id="uuid", host="text") +
         " WHERE s.id = p.id")


def _zone(cur: Cursor, events: list[Folded]) -> None:
    cur.execute(_ZONE, rows(events, lambda f: f.env.id, lambda f: f.env.data.host))


# Both fold many events at a time (see setwise.py).
zone = SetFold(_zone, one_server)
SETWISE: dict[str, SetFold] = {"InstanceRequested": SetFold(_hints, one_server, _hinted),
                               "InstanceScheduled": zone}


FOLDS: dict[str, Fold] = {
    "AggregateCreated": aggregate_created,
    "AggregateRenamed": aggregate_renamed,
    "AggregateMetadataSet": aggregate_metadata_set,
    "AggregateHostAdded": aggregate_host_added,
    "AggregateHostRemoved": aggregate_host_removed,
    "AggregateDeleted": aggregate_deleted,
    "ServerGroupCreated": server_group_created,
    "ServerGroupMemberAdded": server_group_member_added,
    "ServerGroupMemberPlaced": server_group_member_placed,
    "ServerGroupDeleted": server_group_deleted,
}
