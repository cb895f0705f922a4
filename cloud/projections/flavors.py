"""Read model for what happens to a flavor after ``FlavorCreated`` (folded in folds.py):
deletes, descriptions, extra specs (a jsonb column of ``flavors``) and project access.

A deleted flavor's rows go: Nova deletes flavors for good, and the same id or name may be
created again. Servers keep their own copy of the flavor they were built with.
"""

import msgspec
from psycopg import Cursor

from cloud.domain import events as ev
from cloud.domain.envelope import Envelope
from cloud.projections.folds import Fold

DDL = """
CREATE TABLE IF NOT EXISTS flavor_access (
    flavorid text NOT NULL,
    project_id text NOT NULL,
    PRIMARY KEY (flavorid, project_id)
);
CREATE INDEX IF NOT EXISTS flavor_access_project ON flavor_access (project_id);
"""


def flavor_deleted(cur: Cursor, env: Envelope) -> None:
    e: ev.FlavorDeleted = env.data  # type: ignore[assignment]
    cur.execute("DELETE FROM flavors WHERE flavorid = %s", (e.flavorid,))
    cur.execute("DELETE FROM flavor_access WHERE flavorid = %s", (e.flavorid,))


def flavor_description_updated(cur: Cursor, env: Envelope) -> None:
    e: ev.FlavorDescriptionUpdated = env.data  # type: ignore[assignment]
    cur.execute("UPDATE flavors SET description = %s WHERE flavorid = %s",
                (e.description, e.flavorid))


def flavor_extra_specs_set(cur: Cursor, env: Envelope) -> None:
    e: ev.FlavorExtraSpecsSet = env.data  # type: ignore[assignment]
    cur.execute("UPDATE flavors SET extra_specs = extra_specs || %s::jsonb"
                " WHERE flavorid = %s", (msgspec.json.encode(e.extra_specs).decode(),
                                         e.flavorid))


def flavor_extra_spec_deleted(cur: Cursor, env: Envelope) -> None:
    e: ev.FlavorExtraSpecDeleted = env.data  # type: ignore[assignment]
    cur.execute("UPDATE flavors SET extra_specs = extra_specs - %s::text WHERE flavorid = %s",
                (e.key, e.flavorid))


def flavor_access_added(cur: Cursor, env: Envelope) -> None:
    e: ev.FlavorAccessAdded = env.data  # type: ignore[assignment]
    cur.execute("INSERT INTO flavor_access VALUES (%s, %s) ON CONFLICT DO NOTHING",
                (e.flavorid, e.project_id))


def flavor_access_removed(cur: Cursor, env: Envelope) -> None:
    e: ev.FlavorAccessRemoved = env.data  # type: ignore[assignment]
    cur.execute("DELETE FROM flavor_access WHERE flavorid = %s AND project_id = %s",
                (e.flavorid, e.project_id))


FOLDS: dict[str, Fold] = {
    "FlavorDeleted": flavor_deleted,
    "FlavorDescriptionUpdated": flavor_description_updated,
    "FlavorExtraSpecsSet": flavor_extra_specs_set,
    "FlavorExtraSpecDeleted": flavor_extra_spec_deleted,
    "FlavorAccessAdded": flavor_access_added,
    "FlavorAccessRemoved": flavor_access_removed,
}
