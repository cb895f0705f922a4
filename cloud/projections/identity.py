"""Read models for identity: tables (DDL) and how each event changes them (FOLDS).

Rows are keyed by the envelope's ``key`` (the project's or user's id). Deleted projects
and users leave the tables, and so do their role assignments. Password hashes are not
here: they are not history (see ``cloud.adapters.credentials``).
"""

from psycopg import Cursor

from cloud.domain import events as ev
from cloud.domain.envelope import Envelope
from cloud.projections.folds import Fold

DDL = """
CREATE TABLE IF NOT EXISTS projects (
    id text PRIMARY KEY,
    name text NOT NULL,
    domain_id text NOT NULL,
    description text NOT NULL DEFAULT '',
    enabled boolean NOT NULL,
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL
);
CREATE INDEX IF NOT EXISTS projects_name ON projects (domain_id, name);
CREATE TABLE IF NOT EXISTS users (
    id text PRIMARY KEY,
    name text NOT NULL,
    domain_id text NOT NULL,
    default_project_id text,
    email text,
    description text,
    enabled boolean NOT NULL,
    password_changed_at timestamptz,
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL
);
CREATE INDEX IF NOT EXISTS users_name ON users (domain_id, name);
CREATE TABLE IF NOT EXISTS roles (
    id text PRIMARY KEY,
    name text NOT NULL
);
CREATE TABLE IF NOT EXISTS role_assignments (
    user_id text NOT NULL,
    project_id text NOT NULL,
    role_id text NOT NULL,
    PRIMARY KEY (user_id, project_id, role_id)
);
CREATE INDEX IF NOT EXISTS role_assignments_project ON role_assignments (project_id);
"""


def _set(cur: Cursor, table: str, env: Envelope, assignments: str, *params: object) -> None:
    cur.execute(f"UPDATE {table} SET {assignments}, updated_at = %s WHERE id = %s",
                (*params, env.timestamp, env.key))


def project_created(cur: Cursor, env: Envelope) -> None:
    e: ev.ProjectCreated = env.data  # type: ignore[assignment]
    cur.execute("INSERT INTO projects VALUES (%s,%s,%s,%s,%s,%s,%s) ON CONFLICT DO NOTHING",
                (e.project_id, e.name, e.domain_id, e.description, e.enabled,
                 env.timestamp, env.timestamp))


def project_updated(cur: Cursor, env: Envelope) -> None:
    e: ev.ProjectUpdated = env.data  # type: ignore[assignment]
    _set(cur, "projects", env, "name = %s, description = %s", e.name, e.description)


def project_enabled(cur: Cursor, env: Envelope) -> None:
    _set(cur, "projects", env, "enabled = %s", isinstance(env.data, ev.ProjectEnabled))


def project_deleted(cur: Cursor, env: Envelope) -> None:
    cur.execute("DELETE FROM role_assignments WHERE project_id = %s", (env.key,))
    cur.execute("DELETE FROM projects WHERE id = %s", (env.key,))


def user_created(cur: Cursor, env: Envelope) -> None:
    e: ev.UserCreated = env.data  # type: ignore[assignment]
    cur.execute("INSERT INTO users VALUES (%s,%s,%s,%s,%s,%s,%s,NULL,%s,%s)"
                " ON CONFLICT DO NOTHING",
                (e.user_id, e.name, e.domain_id, e.default_project_id, e.email,
                 e.description, e.enabled, env.timestamp, env.timestamp))


def user_updated(cur: Cursor, env: Envelope) -> None:
    e: ev.UserUpdated = env.data  # type: ignore[assignment]
    _set(cur, "users", env, "name = %s, default_project_id = %s, email = %s,"
         " description = %s", e.name, e.default_project_id, e.email, e.description)


def user_enabled(cur: Cursor, env: Envelope) -> None:
    _set(cur, "users", env, "enabled = %s", isinstance(env.data, ev.UserEnabled))


def user_password_changed(cur: Cursor, env: Envelope) -> None:
    _set(cur, "users", env, "password_changed_at = %s", env.timestamp)


def user_deleted(cur: Cursor, env: Envelope) -> None:
    cur.execute("DELETE FROM role_assignments WHERE user_id = %s", (env.key,))
    cur.execute("DELETE FROM users WHERE id = %s", (env.key,))


def role_granted(cur: Cursor, env: Envelope) -> None:
    e: ev.RoleGranted = env.data  # type: ignore[assignment]
    # A grant on a project deleted meanwhile must not come back to life.
    cur.execute("INSERT INTO role_assignments SELECT %s, id, %s FROM projects WHERE id = %s"
                " ON CONFLICT DO NOTHING", (env.key, e.role_id, e.project_id))


def role_revoked(cur: Cursor, env: Envelope) -> None:
    e: ev.RoleRevoked = env.data  # type: ignore[assignment]
    cur.execute("DELETE FROM role_assignments WHERE user_id = %s AND project_id = %s"
                " AND role_id = %s", (env.key, e.project_id, e.role_id))


def role_created(cur: Cursor, env: Envelope) -> None:
    e: ev.RoleCreated = env.data  # type: ignore[assignment]
    cur.execute("INSERT INTO roles VALUES (%s, %s) ON CONFLICT DO NOTHING",
                (e.role_id, e.name))


FOLDS: dict[str, Fold] = {
    "ProjectCreated": project_created,
    "ProjectUpdated": project_updated,
    "ProjectEnabled": project_enabled,
    "ProjectDisabled": project_enabled,
    "ProjectDeleted": project_deleted,
    "UserCreated": user_created,
    "UserUpdated": user_updated,
    "UserEnabled": user_enabled,
    "UserDisabled": user_enabled,
    "UserPasswordChanged": user_password_changed,
    "UserDeleted": user_deleted,
    "RoleGranted": role_granted,
    "RoleRevoked": role_revoked,
    "RoleCreated": role_created,
}
