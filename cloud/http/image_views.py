"""Pure functions rendering image read-model rows (and version documents, schemas) as
Glance v2's JSON."""

from collections.abc import Iterable
from typing import Any
from urllib.parse import urlencode

from cloud.domain import image_rules
from cloud.http.views import isotime

JSON = dict[str, Any]
Row = dict[str, Any]

CURRENT = (2, 16)
IMAGE_SCHEMA_PATH = "/v2/schemas/image"
IMAGES_SCHEMA_PATH = "/v2/schemas/images"


def versions(image_root: str) -> JSON:
    """``GET /image``: v2.16 is current, every older v2 minor still works."""
    href = [{"rel": "self", "href": f"{image_root}/v2/"}]
    major, newest = CURRENT
    return {"versions": [
        {"id": f"v{major}.{minor}", "status": "CURRENT" if minor == newest else "SUPPORTED",
         "links": href}
        for minor in range(newest, -1, -1)]}


def image(row: Row) -> JSON:
    """One image, flat: core attributes, then every extra property at the top level."""
    image_id = row["id"]
    return {
        **row["properties"],
        "id": image_id, "name": row["name"], "status": row["status"],
        "visibility": row["visibility"], "protected": row["protected"],
        "os_hidden": row["os_hidden"], "owner": row["owner"],
        "disk_format": row["disk_format"], "container_format": row["container_format"],
        "min_disk": row["min_disk"], "min_ram": row["min_ram"],
        "size": row["size"], "virtual_size": None, "checksum": row["checksum"],
        "os_hash_algo": row["os_hash_algo"], "os_hash_value": row["os_hash_value"],
        "tags": row["tags"],
        "created_at": isotime(row["created_at"]), "updated_at": isotime(row["updated_at"]),
        "self": f"/v2/images/{image_id}", "file": f"/v2/images/{image_id}/file",
        "schema": IMAGE_SCHEMA_PATH,
    }


def images(rows: Iterable[Row], *, params: Iterable[tuple[str, str]],
           next_marker: str | None) -> JSON:
    """A page of images; ``next`` repeats the query from the page's last image."""
    body: JSON = {"images": [image(row) for row in rows], "first": "/v2/images",
                  "schema": IMAGES_SCHEMA_PATH}
    if next_marker is not None:
        query = [(k, v) for k, v in params if k != "marker"] + [("marker", next_marker)]
        body["next"] = f"/v2/images?{urlencode(query)}"
    return body


# --- JSON schemas (clients such as glanceclient build their models from these) --------


def _nullable(kind: str, **more: Any) -> JSON:
    return {"type": ["null", kind], **more}


def _read_only(kind: str | list[str], description: str) -> JSON:
    return {"type": kind, "readOnly": True, "description": description}


def _properties() -> JSON:
    uuid = "^([0-9a-fA-F]){8}-([0-9a-fA-F]){4}-([0-9a-fA-F]){4}-([0-9a-fA-F]){4}-([0-9a-fA-F]){12}$"
    return {
        "id": {"type": "string", "pattern": uuid, "description": "An identifier for the image"},
        "name": _nullable("string", maxLength=image_rules.MAX_TEXT),
        "status": {**_read_only("string", "Status of the image"),
                   "enum": ["queued", "saving", "active", "killed", "deleted", "uploading",
                            "importing", "pending_delete", "deactivated"]},
        "visibility": {"type": "string", "enum": list(image_rules.VISIBILITIES)},
        "protected": {"type": "boolean"},
        "os_hidden": {"type": "boolean"},
        "owner": _nullable("string", maxLength=image_rules.MAX_TEXT),
        "disk_format": _nullable("string", enum=[None, *image_rules.DISK_FORMATS]),
        "container_format": _nullable("string", enum=[None, *image_rules.CONTAINER_FORMATS]),
        "min_disk": {"type": "integer"},
        "min_ram": {"type": "integer"},
        "size": _read_only(["null", "integer"], "Size of image file in bytes"),
        "virtual_size": _read_only(["null", "integer"], "Virtual size of image in bytes"),
        "checksum": _read_only(["null", "string"], "md5 hash of image contents."),
        "os_hash_algo": _read_only(["null", "string"], "Algorithm of os_hash_value"),
        "os_hash_value": _read_only(["null", "string"], "Hexdigest of the image contents"),
        "tags": {"type": "array", "items": {"type": "string", "maxLength": 255}},
        "created_at": _read_only("string", "Date and time of image registration"),
        "updated_at": _read_only("string", "Date and time of the last image modification"),
        "self": _read_only("string", "An image self url"),
        "file": _read_only("string", "An image file url"),
        "schema": _read_only("string", "An image schema url"),
    }


def image_schema() -> JSON:
    """``GET /v2/schemas/image``."""
    return {"name": "image", "properties": _properties(),
            "additionalProperties": {"type": "string"},
            "links": [{"rel": "self", "href": "{self}"}, {"rel": "enclosure", "href": "{file}"},
                      {"rel": "describedby", "href": "{schema}"}]}


def images_schema() -> JSON:
    """``GET /v2/schemas/images``."""
    return {"name": "images",
            "properties": {"images": {"type": "array", "items": image_schema()},
                           "schema": {"type": "string"}, "first": {"type": "string"},
                           "next": {"type": "string"}},
            "links": [{"rel": "first", "href": "{first}"}, {"rel": "next", "href": "{next}"},
                      {"rel": "describedby", "href": "{schema}"}]}
