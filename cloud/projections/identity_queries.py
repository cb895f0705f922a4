"""The reads Keystone's API and token validation run on the identity read models."""

from typing import Any

from psycopg_pool import ConnectionPool

Row = dict[str, Any]


def _where(filters: dict[str, object]) -> tuple[str, tuple]:
    """``WHERE a = %s AND b = %s`` for the filters that are set."""
    used = {column: value for column, value in filters.items() if value is not None}
    if not used:
        return "", ()
    return " WHERE " + " AND ".join(f"{column} = %s" for column in used), tuple(used.values())


class IdentityQueries:
    """Projects, users, roles and assignments, through the read models' pool (rows as
    dicts, autocommit)."""

    def __init__(self, pool: ConnectionPool) -> None:
        self.pool = pool

    def _all(self, sql: str, params: tuple = ()) -> list[Row]:
        with self.pool.connection() as conn:
            return conn.execute(sql, params).fetchall()  # type: ignore[return-value]

    def _one(self, sql: str, params: tuple = ()) -> Row | None:
        rows = self._all(sql, params)
        return rows[0] if rows else None

    def project(self, project_id: str) -> Row | None:
        return self._one("SELECT * FROM projects WHERE id = %s", (project_id,))

    def project_named(self, name: str, domain_id: str) -> Row | None:
        return self._one("SELECT * FROM projects WHERE name = %s AND domain_id = %s",
                         (name, domain_id))

    def projects(self, *, name: str | None = None, domain_id: str | None = None,
                 enabled: bool | None = None) -> list[Row]:
        where, params = _where({"name": name, "domain_id": domain_id, "enabled": enabled})
        return self._all(f"SELECT * FROM projects{where} ORDER BY name, id", params)

    def projects_of(self, user_id: str) -> list[Row]:
        """The projects where a user holds any role."""
        return self._all("SELECT * FROM projects WHERE id IN (SELECT project_id FROM"
                         " role_assignments WHERE user_id = %s) ORDER BY name, id",
                         (user_id,))

    def user(self, user_id: str) -> Row | None:
        return self._one("SELECT * FROM users WHERE id = %s", (user_id,))

    def user_named(self, name: str, domain_id: str) -> Row | None:
        return self._one("SELECT * FROM users WHERE name = %s AND domain_id = %s",
                         (name, domain_id))

    def users(self, *, name: str | None = None, domain_id: str | None = None,
              enabled: bool | None = None) -> list[Row]:
        where, params = _where({"name": name, "domain_id": domain_id, "enabled": enabled})
        return self._all(f"SELECT * FROM users{where} ORDER BY name, id", params)

    def role(self, role_id: str) -> Row | None:
        return self._one("SELECT * FROM roles WHERE id = %s", (role_id,))

    def roles(self, *, name: str | None = None) -> list[Row]:
        where, params = _where({"name": name})
        return self._all(f"SELECT * FROM roles{where} ORDER BY name", params)

    def assignments(self, *, user_id: str | None = None, project_id: str | None = None,
                    role_id: str | None = None) -> list[Row]:
        """Role assignments with the names of what they join (for ``include_names``)."""
        where, params = _where({"a.user_id": user_id, "a.project_id": project_id,
                                "a.role_id": role_id})
        return self._all(
            "SELECT a.user_id, a.project_id, a.role_id, u.name AS user_name,"
            " u.domain_id AS user_domain_id, p.name AS project_name,"
            " p.domain_id AS project_domain_id, r.name AS role_name"
            " FROM role_assignments a JOIN users u ON u.id = a.user_id"
            " JOIN projects p ON p.id = a.project_id JOIN roles r ON r.id = a.role_id"
            f"{where} ORDER BY u.name, p.name, r.name", params)

    def scope(self, user_id: str, project_id: str) -> Row | None:
        """A user and a project together, with the role names the user holds there
        (``None`` unless both exist); one round trip, as every API request needs it."""
        return self._one(
            "SELECT u.id AS user_id, u.name AS user_name, u.domain_id AS user_domain_id,"
            " u.enabled AS user_enabled, p.id AS project_id, p.name AS project_name,"
            " p.domain_id AS project_domain_id, p.enabled AS project_enabled,"
            " coalesce(array_agg(r.name ORDER BY r.name) FILTER (WHERE r.name IS NOT NULL),"
            " '{}') AS roles"
            " FROM users u CROSS JOIN projects p"
            " LEFT JOIN role_assignments a ON a.user_id = u.id AND a.project_id = p.id"
            " LEFT JOIN roles r ON r.id = a.role_id"
            " WHERE u.id = %s AND p.id = %s GROUP BY u.id, p.id", (user_id, project_id))
