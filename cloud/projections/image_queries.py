"""The reads the image API runs on the ``images`` read model."""

from typing import Any, Final

import msgspec

from cloud.projections.queries import ReadModels

Row = dict[str, Any]
COLUMNS: Final = (
    "id::text AS id, name, owner, status, visibility, disk_format, container_format,"
    " min_disk, min_ram, protected, os_hidden, tags, properties, size, checksum,"
    " os_hash_algo, os_hash_value, created_at, updated_at"
)
SORT_KEYS: Final = frozenset({"name", "status", "container_format", "disk_format", "size",
                              "id", "created_at", "updated_at", "visibility", "min_disk",
                              "min_ram", "owner"})
# Filters that take a list of accepted values (``in:a,b`` or one value).
LIST_FILTERS: Final = ("id", "name", "status", "disk_format", "container_format", "owner")


class ImageQuery(msgspec.Struct, frozen=True, kw_only=True):
    """What a listing asks for, already checked by the API."""

    project_id: str
    is_admin: bool = False
    visibility: str | None = None
    among: dict[str, list[str]] = {}
    tags: list[str] = []
    properties: dict[str, str] = {}
    protected: bool | None = None
    os_hidden: bool = False
    size_min: int | None = None
    size_max: int | None = None
    sort_key: str = "created_at"
    sort_dir: str = "desc"


def _visibility(query: ImageQuery) -> tuple[str | None, list[object]]:
    """Glance's rule: everybody sees public images, owners their own, admins all.
    Community images are listed only when asked for (or owned)."""
    if query.visibility in (None, "all"):
        if query.is_admin:
            return None, []
        shown = "('public', 'community')" if query.visibility == "all" else "('public')"
        return f"(visibility IN {shown} OR owner = %s)", [query.project_id]
    if query.is_admin or query.visibility in ("public", "community"):
        return "visibility = %s", [query.visibility]
    return "visibility = %s AND owner = %s", [query.visibility, query.project_id]


def _conditions(query: ImageQuery) -> tuple[list[str], list[object]]:
    clause, params = _visibility(query)
    where = [clause] if clause else []
    for column, values in query.among.items():
        where.append(f"{'id::text' if column == 'id' else column} = ANY(%s)")
        params.append(values)
    if query.tags:
        where.append("tags @> %s::jsonb")
        params.append(msgspec.json.encode(query.tags).decode())
    if query.properties:
        where.append("properties @> %s::jsonb")
        params.append(msgspec.json.encode(query.properties).decode())
    for condition, value in (("protected = %s", query.protected), ("size >= %s", query.size_min),
                             ("size <= %s", query.size_max)):
        if value is not None:
            where.append(condition)
            params.append(value)
    where.append("os_hidden = %s")
    params.append(query.os_hidden)
    return where, params


def list_images(read_models: ReadModels, query: ImageQuery) -> list[Row]:
    """Every image the query selects, in its order (ids break ties)."""
    where, params = _conditions(query)
    direction = "ASC" if query.sort_dir == "asc" else "DESC"
    sql = (f"SELECT {COLUMNS} FROM images WHERE {' AND '.join(where)}"
           f" ORDER BY {query.sort_key} {direction}, id {direction}")
    with read_models.pool.connection() as conn:
        return conn.execute(sql, params).fetchall()  # type: ignore[return-value]


def image_row(read_models: ReadModels, image_id: str) -> Row | None:
    """One image as the API shows it (no visibility check here)."""
    with read_models.pool.connection() as conn:
        return conn.execute(f"SELECT {COLUMNS} FROM images WHERE id::text = %s",
                            (image_id,)).fetchone()  # type: ignore[return-value]
