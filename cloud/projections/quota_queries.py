"""The reads the compute API runs on the key pair and quota read models."""

from typing import Any

from psycopg_pool import ConnectionPool

Row = dict[str, Any]


class QuotaQueries:
    """Key pairs, quota limits and usages, through the read models' pool (rows as dicts,
    autocommit)."""

    def __init__(self, pool: ConnectionPool) -> None:
        self.pool = pool

    def _all(self, sql: str, params: tuple = ()) -> list[Row]:
        with self.pool.connection() as conn:
            return conn.execute(sql, params).fetchall()  # type: ignore[return-value]

    def keypairs(self, user_id: str) -> list[Row]:
        """A user's key pairs by name."""
        return self._all("SELECT * FROM keypairs WHERE user_id = %s AND deleted_at IS NULL"
                         " ORDER BY name, id", (user_id,))

    def keypair(self, user_id: str, name: str) -> Row | None:
        """A user's key pair by name, if any."""
        rows = self._all("SELECT * FROM keypairs WHERE user_id = %s AND name = %s"
                         " AND deleted_at IS NULL", (user_id, name))
        return rows[0] if rows else None

    def keypair_count(self, user_id: str) -> int:
        """How many key pairs the user has (Nova's ``key_pairs`` usage)."""
        rows = self._all("SELECT count(*) AS n FROM keypairs WHERE user_id = %s"
                         " AND deleted_at IS NULL", (user_id,))
        return rows[0]["n"]

    def limits(self, project_id: str) -> dict[str, int]:
        """The limits an admin set for the project (the others are the defaults)."""
        rows = self._all("SELECT resource, hard_limit FROM quota_limits"
                         " WHERE project_id = %s", (project_id,))
        return {row["resource"]: row["hard_limit"] for row in rows}

    def usage(self, project_id: str) -> dict[str, int]:
        """What counts against the project's quota: instances, cores and ram."""
        rows = self._all("SELECT count(*) AS instances, coalesce(sum(cores), 0) AS cores,"
                         " coalesce(sum(ram), 0) AS ram FROM quota_usages"
                         " WHERE project_id = %s", (project_id,))
        return {key: int(value) for key, value in rows[0].items()}
