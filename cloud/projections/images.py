"""Read models for images: tables (DDL) and how each event changes them (FOLDS).

A deleted image's row is removed: Glance shows deleted images to nobody, and the log
keeps their history.
"""

import msgspec
from psycopg import Cursor

from cloud.domain import events as ev
from cloud.domain.envelope import Envelope
from cloud.projections.folds import Fold

_json = msgspec.json.encode

# The first releases kept only bootstrap images here, in the first seven columns; the
# ALTER upgrades such a table in place, its defaults being what those rows were
# (public, active, size 0).
DDL = """
CREATE TABLE IF NOT EXISTS images (
    id uuid PRIMARY KEY,
    name text,
    disk_format text,
    container_format text,
    min_disk int NOT NULL,
    min_ram int NOT NULL,
    created_at timestamptz NOT NULL
);
ALTER TABLE images
    ALTER COLUMN name DROP NOT NULL,
    ALTER COLUMN disk_format DROP NOT NULL,
    ALTER COLUMN container_format DROP NOT NULL,
    ADD COLUMN IF NOT EXISTS status text NOT NULL DEFAULT 'active',
    ADD COLUMN IF NOT EXISTS visibility text NOT NULL DEFAULT 'public',
    ADD COLUMN IF NOT EXISTS owner text,
    ADD COLUMN IF NOT EXISTS protected boolean NOT NULL DEFAULT false,
    ADD COLUMN IF NOT EXISTS os_hidden boolean NOT NULL DEFAULT false,
    ADD COLUMN IF NOT EXISTS tags jsonb NOT NULL DEFAULT '[]',
    ADD COLUMN IF NOT EXISTS properties jsonb NOT NULL DEFAULT '{}',
    ADD COLUMN IF NOT EXISTS size bigint DEFAULT 0,
    ADD COLUMN IF NOT EXISTS checksum text,
    ADD COLUMN IF NOT EXISTS os_hash_algo text,
    ADD COLUMN IF NOT EXISTS os_hash_value text,
    ADD COLUMN IF NOT EXISTS updated_at timestamptz,
    ADD COLUMN IF NOT EXISTS version int NOT NULL DEFAULT 1;
UPDATE images SET updated_at = created_at WHERE updated_at IS NULL;
CREATE INDEX IF NOT EXISTS images_listing ON images (created_at DESC, id DESC);
"""

_INSERT = (
    "INSERT INTO images (id, name, owner, status, visibility, disk_format,"
    " container_format, min_disk, min_ram, protected, os_hidden, tags, properties, size,"
    " created_at, updated_at, version)"
    " VALUES (%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s) ON CONFLICT (id) DO NOTHING"
)
# ImageUpdated fields stored as they are, and those stored as JSON.
_PLAIN = ("name", "owner", "visibility", "disk_format", "container_format", "min_disk",
          "min_ram", "protected", "os_hidden")


def image_registered(cur: Cursor, env: Envelope) -> None:
    """The bootstrap image: public, active, size 0, no data."""
    e: ev.ImageRegistered = env.data  # type: ignore[assignment]
    cur.execute(_INSERT, (
        env.id, e.name, None, "active", "public", e.disk_format, e.container_format,
        e.min_disk, e.min_ram, False, False, "[]", "{}", 0, env.timestamp, env.timestamp,
        env.version))


def image_created(cur: Cursor, env: Envelope) -> None:
    """A new queued image."""
    e: ev.ImageCreated = env.data  # type: ignore[assignment]
    cur.execute(_INSERT, (
        env.id, e.name, e.owner, "queued", e.visibility, e.disk_format, e.container_format,
        e.min_disk, e.min_ram, e.protected, e.os_hidden, _json(e.tags).decode(),
        _json(e.properties).decode(), None, env.timestamp, env.timestamp, env.version))


def _touch(cur: Cursor, env: Envelope, assignments: list[str], params: list[object]) -> None:
    assignments = [*assignments, "updated_at = %s", "version = %s"]
    cur.execute(f"UPDATE images SET {', '.join(assignments)} WHERE id = %s",
                (*params, env.timestamp, env.version, env.id))


def image_data_uploaded(cur: Cursor, env: Envelope) -> None:
    """Data stored: active, with its size and hashes."""
    e: ev.ImageDataUploaded = env.data  # type: ignore[assignment]
    _touch(cur, env, ["status = 'active'", "size = %s", "checksum = %s",
                      "os_hash_algo = %s", "os_hash_value = %s"],
           [e.size, e.checksum, e.os_hash_algo, e.os_hash_value])


def image_updated(cur: Cursor, env: Envelope) -> None:
    """Only the attributes present in the event change."""
    e: ev.ImageUpdated = env.data  # type: ignore[assignment]
    assignments, params = [], []
    for name in _PLAIN:
        value = getattr(e, name)
        if value is not msgspec.UNSET:
            assignments.append(f"{name} = %s")
            params.append(value)
    if e.tags is not msgspec.UNSET:
        assignments.append("tags = %s")
        params.append(_json(e.tags).decode())
    assignments.append("properties = (properties || %s::jsonb) - %s::text[]")
    params += [_json(e.properties).decode(), e.removed_properties]
    _touch(cur, env, assignments, params)


def image_deleted(cur: Cursor, env: Envelope) -> None:
    """Deleted images are shown to nobody: the row goes."""
    cur.execute("DELETE FROM images WHERE id = %s", (env.id,))


FOLDS: dict[str, Fold] = {
    "ImageRegistered": image_registered,
    "ImageCreated": image_created,
    "ImageDataUploaded": image_data_uploaded,
    "ImageUpdated": image_updated,
    "ImageDeleted": image_deleted,
}
