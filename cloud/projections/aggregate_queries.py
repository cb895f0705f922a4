"""The reads on host aggregates, availability zones and server groups.

``host_availability_zone`` and ``availability_zones`` are the public face other parts
use (os-services shows a compute host's zone; server create checks a requested zone).
"""

from collections.abc import Iterable
from typing import Any

from psycopg_pool import ConnectionPool

from cloud.domain.aggregate import AZ_KEY, DEFAULT_ZONE

Row = dict[str, Any]

AGGREGATE_SELECT = (
    "SELECT a.id, a.uuid::text AS uuid, a.name, a.created_at, a.updated_at,"
    " coalesce((SELECT jsonb_object_agg(m.key, m.value) FROM aggregate_metadata m"
    "  WHERE m.aggregate_uuid = a.uuid), '{}') AS metadata,"
    " ARRAY(SELECT h.host FROM aggregate_hosts h WHERE h.aggregate_uuid = a.uuid"
    "  ORDER BY h.added_at, h.host) AS hosts"
    " FROM aggregates a WHERE a.deleted_at IS NULL")
# Each compute host's zone: the zone of an aggregate it is in, else the default.
_HOST_ZONES = (
    "SELECT h.name AS host, coalesce((SELECT m.value FROM aggregate_hosts ah"
    " JOIN aggregate_metadata m ON m.aggregate_uuid = ah.aggregate_uuid AND m.key = %s"
    " WHERE ah.host = h.name ORDER BY m.value LIMIT 1), %s) AS zone FROM hosts h")


def by_host(aggregates: Iterable[Row]) -> dict[str, list[Row]]:
    """Rows of AGGREGATE_SELECT grouped by each of their hosts."""
    found: dict[str, list[Row]] = {}
    for row in aggregates:
        for host in row["hosts"]:
            found.setdefault(host, []).append(row)
    return found


class AggregateQueries:
    """Through the read models' pool (rows as dicts, autocommit)."""

    def __init__(self, pool: ConnectionPool) -> None:
        self.pool = pool

    def _all(self, sql: str, params: tuple = ()) -> list[Row]:
        with self.pool.connection() as conn:
            return conn.execute(sql, params).fetchall()  # type: ignore[return-value]

    # --- aggregates -------------------------------------------------------------------

    def aggregates(self) -> list[Row]:
        """Every live aggregate with its hosts and metadata, by id."""
        return self._all(AGGREGATE_SELECT + " ORDER BY a.id")

    def aggregate(self, aggregate_id: int) -> Row | None:
        rows = self._all(AGGREGATE_SELECT + " AND a.id = %s", (aggregate_id,))
        return rows[0] if rows else None

    def aggregate_by_uuid(self, aggregate_uuid: str) -> Row | None:
        rows = self._all(AGGREGATE_SELECT + " AND a.uuid::text = %s", (aggregate_uuid,))
        return rows[0] if rows else None

    def zones_of_hosts(self, hosts: list[str], *, excluding: str) -> dict[str, set[str]]:
        """The zones each host is in through aggregates other than ``excluding``."""
        rows = self._all(
            "SELECT h.host, m.value FROM aggregate_hosts h JOIN aggregate_metadata m"
            " ON m.aggregate_uuid = h.aggregate_uuid AND m.key = %s"
            " WHERE h.host = ANY(%s) AND h.aggregate_uuid::text <> %s",
            (AZ_KEY, hosts, excluding))
        found: dict[str, set[str]] = {host: set() for host in hosts}
        for row in rows:
            found[row["host"]].add(row["value"])
        return found

    def aggregates_by_host(self) -> dict[str, list[Row]]:
        """For the scheduler: each host's aggregates (name and metadata)."""
        return by_host(self.aggregates())

    # --- availability zones -----------------------------------------------------------

    def host_zones(self) -> dict[str, str]:
        """Every registered compute host's availability zone."""
        rows = self._all(_HOST_ZONES + " ORDER BY h.name", (AZ_KEY, DEFAULT_ZONE))
        return {row["host"]: row["zone"] for row in rows}

    def host_availability_zone(self, host: str) -> str:
        """A host's zone: its aggregate's ``availability_zone``, else ``nova``."""
        rows = self._all(
            "SELECT m.value FROM aggregate_hosts h JOIN aggregate_metadata m"
            " ON m.aggregate_uuid = h.aggregate_uuid AND m.key = %s WHERE h.host = %s"
            " ORDER BY m.value LIMIT 1", (AZ_KEY, host))
        return rows[0]["value"] if rows else DEFAULT_ZONE

    def availability_zones(self) -> dict[str, bool]:
        """Zones that hold compute hosts, each available unless all its computes are
        disabled (os-services)."""
        rows = self._all(
            f"SELECT z.zone, bool_or(NOT coalesce(st.disabled, false)) AS available"
            f" FROM ({_HOST_ZONES}) z LEFT JOIN service_states st ON st.host = z.host"
            " AND st.binary_name = 'nova-compute' GROUP BY z.zone ORDER BY z.zone",
            (AZ_KEY, DEFAULT_ZONE))
        return {row["zone"]: row["available"] for row in rows}

    def services(self) -> list[Row]:
        """Heartbeating services with the operator's switch, for the zone detail."""
        return self._all(
            "SELECT s.host, s.binary_name, s.last_seen_at,"
            " coalesce(st.disabled, false) AS disabled,"
            " coalesce(st.forced_down, false) AS forced_down FROM services s"
            " LEFT JOIN service_states st ON st.host = s.host"
            " AND st.binary_name = s.binary_name ORDER BY s.host, s.binary_name")

    # --- server groups ----------------------------------------------------------------

    def server_groups(self, *, project_id: str | None, limit: int, offset: int) -> list[Row]:
        """Groups (of one project, or all), oldest first, with their live members."""
        where, params = "g.deleted_at IS NULL", []
        if project_id is not None:
            where += " AND g.project_id = %s"
            params.append(project_id)
        return self._all(f"{_GROUP} WHERE {where} ORDER BY g.created_at, g.id"
                         " LIMIT %s OFFSET %s", (*params, limit, offset))

    def server_group(self, group_id: str) -> Row | None:
        rows = self._all(f"{_GROUP} WHERE g.deleted_at IS NULL AND g.id::text = %s",
                         (group_id,))
        return rows[0] if rows else None

    def groups_of_server(self, server_id: str) -> list[str]:
        """The groups a server is in (at most one, in practice)."""
        rows = self._all("SELECT m.group_id::text AS id FROM server_group_members m JOIN"
                         " server_groups g ON g.id = m.group_id AND g.deleted_at IS NULL"
                         " WHERE m.instance_id::text = %s", (server_id,))
        return [row["id"] for row in rows]

    def scheduler_hints(self, server_id: str) -> dict[str, Any]:
        rows = self._all("SELECT hints FROM server_scheduler_hints"
                         " WHERE instance_id::text = %s", (server_id,))
        return rows[0]["hints"] if rows else {}


# Members are shown while their server is not deleted (Nova hides deleted ones).
_GROUP = (
    "SELECT g.id::text AS id, g.name, g.project_id, g.user_id, g.policy, g.rules,"
    " ARRAY(SELECT m.instance_id::text FROM server_group_members m JOIN servers s"
    "  ON s.id = m.instance_id AND s.vm_state <> 'deleted' WHERE m.group_id = g.id"
    "  ORDER BY m.position) AS members FROM server_groups g")
