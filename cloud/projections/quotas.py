"""Read models for quotas: tables (DDL) and how each event changes them (FOLDS).

``quota_limits`` holds only the limits an admin set (the rest are the defaults);
``quota_usages`` the instances counted against each project, as the ProjectUsage
aggregate decided them.
"""

from psycopg import Cursor

from cloud.domain import events as ev
from cloud.domain.envelope import Envelope
from cloud.projections.folds import Fold

DDL = """
CREATE TABLE IF NOT EXISTS quota_limits (
    project_id text NOT NULL,
    resource text NOT NULL,
    hard_limit bigint NOT NULL,
    PRIMARY KEY (project_id, resource)
);
CREATE TABLE IF NOT EXISTS quota_usages (
    project_id text NOT NULL,
    instance_id uuid NOT NULL,
    cores int NOT NULL,
    ram int NOT NULL,
    PRIMARY KEY (project_id, instance_id)
);
"""


def quota_set_updated(cur: Cursor, env: Envelope) -> None:
    """Upsert each limit set."""
    e: ev.QuotaSetUpdated = env.data  # type: ignore[assignment]
    for resource, limit in e.limits.items():
        cur.execute("INSERT INTO quota_limits VALUES (%s, %s, %s) ON CONFLICT"
                    " (project_id, resource) DO UPDATE SET hard_limit = EXCLUDED.hard_limit",
                    (e.project_id, resource, limit))


def quota_set_reset(cur: Cursor, env: Envelope) -> None:
    """Forget the project's limits: the defaults apply."""
    e: ev.QuotaSetReset = env.data  # type: ignore[assignment]
    cur.execute("DELETE FROM quota_limits WHERE project_id = %s", (e.project_id,))


def usage_reserved(cur: Cursor, env: Envelope) -> None:
    """An instance counts against its project."""
    e: ev.UsageReserved = env.data  # type: ignore[assignment]
    cur.execute("INSERT INTO quota_usages VALUES (%s, %s, %s, %s) ON CONFLICT DO NOTHING",
                (e.project_id, e.instance_id, e.cores, e.ram))


def usage_released(cur: Cursor, env: Envelope) -> None:
    """An instance no longer counts."""
    e: ev.UsageReleased = env.data  # type: ignore[assignment]
    cur.execute("DELETE FROM quota_usages WHERE project_id = %s AND instance_id = %s",
                (e.project_id, e.instance_id))


def usage_changed(cur: Cursor, env: Envelope) -> None:
    """A counted instance counts other cores and ram (a resize); one that no longer
    counts stays uncounted, as in the aggregate."""
    e: ev.UsageChanged = env.data  # type: ignore[assignment]
    cur.execute("UPDATE quota_usages SET cores = %s, ram = %s"
                " WHERE project_id = %s AND instance_id = %s",
                (e.cores, e.ram, e.project_id, e.instance_id))


FOLDS: dict[str, Fold] = {
    "QuotaSetUpdated": quota_set_updated,
    "QuotaSetReset": quota_set_reset,
    "UsageReserved": usage_reserved,
    "UsageReleased": usage_released,
    "UsageChanged": usage_changed,
}
