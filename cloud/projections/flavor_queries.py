"""The reads the flavor API runs: flavors as one project sees them, and access lists."""

from typing import Any

from psycopg_pool import ConnectionPool

Row = dict[str, Any]

# ``has_access``: whether the asking project was given access to the (private) flavor.
_SELECT = ("SELECT f.*, EXISTS (SELECT 1 FROM flavor_access a WHERE a.flavorid = f.flavorid"
           " AND a.project_id = %s) AS has_access FROM flavors f")


class FlavorQueries:
    """Queries on the ``flavors`` and ``flavor_access`` tables."""

    def __init__(self, pool: ConnectionPool) -> None:
        self.pool = pool

    def _all(self, sql: str, params: tuple = ()) -> list[Row]:
        with self.pool.connection() as conn:
            return conn.execute(sql, params).fetchall()  # type: ignore[return-value]

    def flavors(self, project_id: str) -> list[Row]:
        """Every live flavor in creation order, each saying if ``project_id`` has access."""
        return self._all(f"{_SELECT} ORDER BY f.seq, f.flavorid", (project_id,))

    def flavor(self, flavorid: str, project_id: str) -> Row | None:
        """One live flavor (visible or not), saying if ``project_id`` has access."""
        rows = self._all(f"{_SELECT} WHERE f.flavorid = %s", (project_id, flavorid))
        return rows[0] if rows else None

    def access(self, flavorid: str) -> list[str]:
        """The projects that may use a private flavor, in name order."""
        rows = self._all("SELECT project_id FROM flavor_access WHERE flavorid = %s"
                         " ORDER BY project_id", (flavorid,))
        return [row["project_id"] for row in rows]
