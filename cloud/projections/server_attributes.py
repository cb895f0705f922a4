"""How a user's edits (update, metadata, tags) change the ``servers`` read model.

The create-time values of these columns are written with the row itself, by the
set-wise ``InstanceRequested`` fold (folds.py).
"""

import msgspec
from psycopg import Cursor

from cloud.domain import events as ev
from cloud.domain.envelope import Envelope
from cloud.projections.folds import Fold, _json, _touch

DDL = """
ALTER TABLE servers
    ADD COLUMN IF NOT EXISTS tags text[] NOT NULL DEFAULT '{}',
    ADD COLUMN IF NOT EXISTS access_ipv4 text NOT NULL DEFAULT '',
    ADD COLUMN IF NOT EXISTS access_ipv6 text NOT NULL DEFAULT '',
    ADD COLUMN IF NOT EXISTS launch_index int NOT NULL DEFAULT 0;
CREATE INDEX IF NOT EXISTS servers_tags ON servers USING gin (tags);
CREATE INDEX IF NOT EXISTS servers_reservation ON servers (reservation_id);
"""

# Event fields that are servers columns of another name.
_COLUMNS = {"name": "name", "description": "description", "hostname": "hostname",
            "access_ipv4": "access_ipv4", "access_ipv6": "access_ipv6"}


def updated(cur: Cursor, env: Envelope) -> None:
    e: ev.InstanceUpdated = env.data  # type: ignore[assignment]
    changes = {column: getattr(e, field) for field, column in _COLUMNS.items()
               if getattr(e, field) is not msgspec.UNSET}
    if changes:
        _touch(cur, env, ", ".join(f"{column} = %s" for column in changes),
               *changes.values())


def metadata_set(cur: Cursor, env: Envelope) -> None:
    e: ev.InstanceMetadataSet = env.data  # type: ignore[assignment]
    _touch(cur, env, "metadata = %s", _json(e.metadata).decode())


def metadata_deleted(cur: Cursor, env: Envelope) -> None:
    e: ev.InstanceMetadataDeleted = env.data  # type: ignore[assignment]
    _touch(cur, env, "metadata = metadata - %s", e.key)


def tags_set(cur: Cursor, env: Envelope) -> None:
    e: ev.InstanceTagsSet = env.data  # type: ignore[assignment]
    _touch(cur, env, "tags = %s", sorted(set(e.tags)))


def tag_added(cur: Cursor, env: Envelope) -> None:
    e: ev.InstanceTagAdded = env.data  # type: ignore[assignment]
    _touch(cur, env, "tags = ARRAY(SELECT DISTINCT t FROM unnest(tags || %s::text) AS t"
                     " ORDER BY t)", e.tag)


def tag_deleted(cur: Cursor, env: Envelope) -> None:
    e: ev.InstanceTagDeleted = env.data  # type: ignore[assignment]
    _touch(cur, env, "tags = array_remove(tags, %s)", e.tag)


FOLDS: dict[str, Fold] = {
    "InstanceUpdated": updated,
    "InstanceMetadataSet": metadata_set,
    "InstanceMetadataDeleted": metadata_deleted,
    "InstanceTagsSet": tags_set,
    "InstanceTagAdded": tag_added,
    "InstanceTagDeleted": tag_deleted,
}
