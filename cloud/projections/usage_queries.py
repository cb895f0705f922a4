"""The read behind ``os-simple-tenant-usage``: servers alive during a window, deleted ones
included (their rows stay in ``servers`` with ``terminated_at`` set)."""

import datetime as dt
from typing import Any

from psycopg_pool import ConnectionPool

Row = dict[str, Any]
# Nova's order (project, then uuid, as MySQL compares strings): "C" keeps it byte-wise.
_KEY = 'project_id COLLATE "C", id'


class UsageQueries:
    """Servers by the window of their life, through the read models' pool."""

    def __init__(self, pool: ConnectionPool) -> None:
        self.pool = pool

    def _all(self, sql: str, params: tuple = ()) -> list[Row]:
        with self.pool.connection() as conn:
            return conn.execute(sql, params).fetchall()  # type: ignore[return-value]

    def has_server(self, server_id: str) -> bool:
        """Whether a server, deleted or not, has this id (a paging marker)."""
        return bool(self._all("SELECT 1 FROM servers WHERE id::text = %s", (server_id,)))

    def active_in(self, start: dt.datetime, end: dt.datetime, *, project_id: str | None,
                  limit: int, marker: str | None = None) -> list[Row]:
        """Nova's ``get_active_by_window_joined``: servers launched before ``end`` and not
        terminated by ``start``, by project and id, after the ``marker`` server if any."""
        where = ["launched_at < %s", "(terminated_at IS NULL OR terminated_at > %s)"]
        params: list[Any] = [end, start]
        if project_id is not None:
            where.append("project_id = %s")
            params.append(project_id)
        if marker is not None:
            where.append(f"({_KEY}) > (SELECT {_KEY} FROM servers WHERE id::text = %s)")
            params.append(marker)
        return self._all(
            "SELECT id::text AS id, name, project_id, flavor, vm_state, launched_at,"
            f" terminated_at FROM servers WHERE {' AND '.join(where)}"
            f" ORDER BY {_KEY} LIMIT %s", (*params, limit))
