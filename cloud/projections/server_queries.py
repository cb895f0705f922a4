"""Listing servers: filters, sort keys and keyset paging on the ``servers`` read model.

Sorting follows Nova (MySQL): NULL sorts first ascending, last descending; the default
keys ``created_at`` and ``id`` always end the order (in the first key's direction) so a
marker names one position exactly.
"""

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from psycopg_pool import ConnectionPool

from cloud.projections.queries import SERVER_COLUMNS

# Nova's sort keys (instance columns) and the read-model expression each sorts by.
SORT_EXPRESSIONS = {
    "access_ip_v4": "access_ipv4", "access_ip_v6": "access_ipv6",
    "availability_zone": "coalesce(availability_zone, 'nova')",
    "created_at": "created_at", "updated_at": "updated_at",
    "launched_at": "launched_at", "terminated_at": "terminated_at",
    "display_description": "description", "display_name": "name",
    "host": "host", "node": "node", "hostname": "hostname", "image_ref": "image_ref",
    "instance_type_id": "(flavor->>'flavorid')", "key_name": "key_name",
    "launch_index": "launch_index", "locked_by": "locked_by", "locked": "locked",
    "power_state": "power_state", "project_id": "project_id", "task_state": "task_state",
    "user_id": "user_id", "uuid": "id", "vm_state": "vm_state",
}
DEFAULT_SORT = (("created_at", "desc"), ("uuid", "desc"))

# Filters matched as regular expressions, as Nova's database layer does for every
# column without an exact-match rule (column expressions by filter name).
REGEX_COLUMNS = {
    "name": "name", "description": "description", "key_name": "key_name",
    "availability_zone": "coalesce(availability_zone, 'nova')",
    "reservation_id": "reservation_id", "node": "node", "hostname": "hostname",
    # Matched as Nova's MySQL matches them: against the column's text, timestamps as
    # 'YYYY-MM-DD HH:MM:SS' UTC. No server has a config drive or reports progress but 0.
    "created_at": "to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS')",
    "launched_at": "to_char(launched_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS')",
    "terminated_at": "to_char(terminated_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS')",
    "power_state": "power_state::text", "progress": "'0'", "config_drive": "''",
}
EXACT_COLUMNS = {
    "project_id": "project_id", "user_id": "user_id", "image": "image_ref",
    "host": "host", "uuid": "id::text", "flavor": "(flavor->>'flavorid')",
}


@dataclass
class ServerFilters:
    """What a server list asks for, in read-model terms (parsed at the HTTP edge)."""

    exact: dict[str, str] = field(default_factory=dict)
    regex: dict[str, str] = field(default_factory=dict)
    vm_states: list[str] | None = None
    task_states: list[str] | None = None
    deleted: str = "exclude"  # or "only", "include"
    changes_since: dt.datetime | None = None
    changes_before: dt.datetime | None = None
    tags: list[str] | None = None
    tags_any: list[str] | None = None
    not_tags: list[str] | None = None
    not_tags_any: list[str] | None = None
    locked: bool | None = None

    def where(self) -> tuple[list[str], list[Any]]:
        """SQL conditions and their parameters."""
        where: list[str] = []
        params: list[Any] = []

        def add(sql: str, *values: Any) -> None:
            where.append(sql)
            params.extend(values)
        for name, value in self.exact.items():
            add(f"{EXACT_COLUMNS[name]} = %s", value)
        for name, pattern in self.regex.items():
            add(f"{REGEX_COLUMNS[name]} ~ %s", pattern)
        self._states(add)
        self._tags(add)
        return where, params

    def _states(self, add) -> None:
        if self.deleted != "include":
            add("vm_state = 'deleted'" if self.deleted == "only" else "vm_state <> 'deleted'")
        if self.vm_states is not None:
            add("vm_state = ANY(%s)", self.vm_states)
        if self.task_states is not None:
            add("task_state = ANY(%s)", self.task_states)
        if self.changes_since is not None:
            add("updated_at >= %s", self.changes_since)
        if self.changes_before is not None:
            add("updated_at <= %s", self.changes_before)
        if self.locked is not None:
            add("locked = %s", self.locked)

    def _tags(self, add) -> None:
        if self.tags:
            add("tags @> %s::text[]", self.tags)
        if self.tags_any:
            add("tags && %s::text[]", self.tags_any)
        if self.not_tags:
            add("NOT (tags @> %s::text[])", self.not_tags)
        if self.not_tags_any:
            add("NOT (tags && %s::text[])", self.not_tags_any)


def full_sort(sort: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """The keys asked for, then the default keys missing, in the first key's direction."""
    direction = sort[0][1] if sort else "desc"
    keys = {key for key, _ in sort}
    return [*sort, *((key, direction) for key, _ in DEFAULT_SORT if key not in keys)]


# NULL sorts lowest, as in Nova's MySQL.
_DIRECTIONS = {"asc": "ASC NULLS FIRST", "desc": "DESC NULLS LAST"}


def _order_by(sort: list[tuple[str, str]]) -> str:
    return ", ".join(f"{SORT_EXPRESSIONS[key]} {_DIRECTIONS[way]}" for key, way in sort)


def _after(sort: list[tuple[str, str]], marker: tuple) -> tuple[str, list[Any]]:
    """Rows strictly after the marker's position in this order."""
    alternatives, params = [], []
    for index, (key, way) in enumerate(sort):
        parts = []
        for (same_key, _), value in zip(sort[:index], marker):
            expression = SORT_EXPRESSIONS[same_key]
            parts.append(f"{expression} IS NULL" if value is None else f"{expression} = %s")
            params.extend([] if value is None else [value])
        expression, value = SORT_EXPRESSIONS[key], marker[index]
        if value is None:
            parts.append(f"{expression} IS NOT NULL" if way == "asc" else "FALSE")
        else:
            parts.append(f"{expression} > %s" if way == "asc"
                         else f"({expression} < %s OR {expression} IS NULL)")
            params.append(value)
        alternatives.append("(" + " AND ".join(parts) + ")")
    return "(" + " OR ".join(alternatives) + ")", params


def marker_position(pool: ConnectionPool, server_id: str,
                    sort: list[tuple[str, str]]) -> tuple | None:
    """The sort values of the marker server (deleted ones too), or None if unknown."""
    columns = ", ".join(f"{SORT_EXPRESSIONS[key]} AS k{n}" for n, (key, _) in enumerate(sort))
    with pool.connection() as conn:
        row = conn.execute(f"SELECT {columns} FROM servers WHERE id::text = %s",
                           (server_id,)).fetchone()
    return None if row is None else tuple(row.values())  # type: ignore[union-attr]


def list_servers(pool: ConnectionPool, filters: ServerFilters, *,
                 sort: list[tuple[str, str]], limit: int,
                 marker: tuple | None = None) -> list[dict[str, Any]]:
    """One page of servers in the order asked (``sort`` as returned by ``full_sort``)."""
    where, params = filters.where()
    if marker is not None:
        condition, marker_params = _after(sort, marker)
        where.append(condition)
        params.extend(marker_params)
    sql = (f"SELECT {SERVER_COLUMNS}, locked FROM servers"
           f" WHERE {' AND '.join(where) or 'TRUE'}"
           f" ORDER BY {_order_by(sort)} LIMIT %s")
    with pool.connection() as conn:
        return conn.execute(sql, (*params, limit)).fetchall()  # type: ignore[return-value]
