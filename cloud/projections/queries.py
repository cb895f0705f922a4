"""The reads the API and scheduler run on the read models."""

import time
from typing import Any

from psycopg.rows import dict_row
from psycopg_pool import ConnectionPool

from cloud.projections.projector import NAME

SERVER_COLUMNS = (
    "id::text, name, project_id, user_id, flavor, image_ref, vm_state, task_state,"
    " power_state, host, node, metadata, availability_zone, key_name, fault, created_at,"
    " updated_at, launched_at, terminated_at, hostname, reservation_id, user_data,"
    " description, tags, access_ipv4, access_ipv6, launch_index,"
    " locked, locked_reason, locked_by, trusted_image_certificates,"
    # Nova's host_status: UP while the host's compute agent beats (within Nova's
    # service_down_time of 60 s), UNKNOWN after; NULL without a host or an agent.
    " (SELECT CASE WHEN now() - v.last_seen_at < interval '60 seconds' THEN 'UP'"
    " ELSE 'UNKNOWN' END FROM services v WHERE v.host = servers.host"
    " AND v.binary_name = 'nova-compute') AS host_status,"
    # Shown from 2.100: what the create asked of the scheduler.
    " (SELECT hints FROM server_scheduler_hints sh WHERE sh.instance_id = servers.id)"
    " AS scheduler_hints"
)


class ReadModels:
    """Queries on the projection tables, through a small connection pool."""

    def __init__(self, url: str, *, size: int = 4) -> None:
        self.pool = ConnectionPool(url, min_size=1, max_size=size, open=True,
                                   kwargs={"row_factory": dict_row, "autocommit": True})

    def close(self) -> None:
        self.pool.close()

    def _all(self, sql: str, params: tuple = ()) -> list[dict[str, Any]]:
        with self.pool.connection() as conn:
            return conn.execute(sql, params).fetchall()  # type: ignore[return-value]

    def position(self) -> int:
        """How far the read models have folded the log."""
        rows = self._all("SELECT position FROM projection_tracking WHERE name = %s", (NAME,))
        return rows[0]["position"] if rows else 0

    def wait_for(self, position: int, *, timeout: float = 10.0) -> bool:
        """Block until the read models include ``position`` (read-your-writes)."""
        deadline = time.monotonic() + timeout
        delay = 0.002
        while self.position() < position:
            if time.monotonic() > deadline:
                return False
            time.sleep(delay)
            delay = min(delay * 2, 0.05)
        return True

    def server(self, server_id: str) -> dict[str, Any] | None:
        """One server that is not deleted."""
        rows = self._all(f"SELECT {SERVER_COLUMNS} FROM servers WHERE id::text = %s"
                         " AND vm_state <> 'deleted'", (server_id,))
        return rows[0] if rows else None

    def servers(self, *, project_id: str | None, name: str | None = None,
                limit: int = 1000, marker: tuple | None = None) -> list[dict[str, Any]]:
        """Servers newest first (Nova's default order), optionally after a marker."""
        where, params = ["vm_state <> 'deleted'"], []
        if project_id is not None:
            where.append("project_id = %s")
            params.append(project_id)
        if name is not None:
            where.append("name ~ %s")
            params.append(name)
        if marker is not None:
            where.append("(created_at, id) < (%s, %s::uuid)")
            params.extend(marker)
        sql = (f"SELECT {SERVER_COLUMNS} FROM servers WHERE {' AND '.join(where)}"
               " ORDER BY created_at DESC, id DESC LIMIT %s")
        return self._all(sql, (*params, limit))

    def marker(self, server_id: str) -> tuple | None:
        """The sort key of a server used as a paging marker."""
        rows = self._all("SELECT created_at, id::text AS id FROM servers WHERE id::text = %s",
                         (server_id,))
        return (rows[0]["created_at"], rows[0]["id"]) if rows else None

    def image(self, image_id: str) -> dict[str, Any] | None:
        rows = self._all("SELECT * FROM images WHERE id::text = %s", (image_id,))
        return rows[0] if rows else None

    def hosts(self) -> list[dict[str, Any]]:
        """Hosts with their usage, the last heartbeat of their compute agent and the
        operator's switches on that service (os-services)."""
        return self._all(
            "SELECT h.*, s.last_seen_at, coalesce(st.disabled, false) AS disabled,"
            " coalesce(st.forced_down, false) AS forced_down FROM hosts h"
            " LEFT JOIN services s ON s.host = h.name AND s.binary_name = 'nova-compute'"
            " LEFT JOIN service_states st ON st.host = h.name"
            " AND st.binary_name = 'nova-compute' ORDER BY h.name")

    def claims_of(self, instance_id: str) -> list[str]:
        """Hosts holding a claim for an instance."""
        rows = self._all("SELECT host FROM host_claims WHERE instance_id::text = %s"
                         " AND kind = ''",
                         (instance_id,))
        return [row["host"] for row in rows]
