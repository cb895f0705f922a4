"""What image requests ask for: create bodies, JSON patches and list queries, checked at
the edge (the values themselves are checked by the domain's image rules)."""

from collections.abc import Mapping
from typing import Any, Final

import msgspec
from litestar.datastructures import MultiDict

from cloud.domain import image_rules
from cloud.domain.image import Caller, PatchOperation
from cloud.http import paging
from cloud.http.faults import ApiFault, BadRequest
from cloud.projections.image_queries import LIST_FILTERS, SORT_KEYS, ImageQuery

PATCH_MEDIA_TYPE: Final = "application/openstack-images-v2.1-json-patch"
OCTET_STREAM: Final = "application/octet-stream"
DEFAULT_LIMIT: Final = 25  # Glance's limit_param_default
PATCH_OPS: Final = frozenset({"add", "replace", "remove"})
# Query parameters that are not filters on extra properties.
_NOT_PROPERTIES: Final = frozenset({
    "limit", "marker", "sort_key", "sort_dir", "sort", "visibility", "tag", "protected",
    "os_hidden", "size_min", "size_max", "member_status", *LIST_FILTERS})
_VISIBILITIES: Final = (*image_rules.VISIBILITIES, "all")


class UnsupportedMediaType(ApiFault):
    status = 415


def require_media_type(headers: Mapping[str, str], expected: str) -> None:
    """Refuse a body of another media type than the one this call takes (415)."""
    if headers.get("content-type", "").split(";")[0].strip().lower() != expected:
        raise UnsupportedMediaType(f"Content-Type must be {expected}")


def _json(body: bytes) -> Any:
    try:
        return msgspec.json.decode(body)
    except msgspec.DecodeError as error:
        raise BadRequest(f"Malformed JSON in request body: {error}") from None


def create_body(body: bytes) -> tuple[str | None, dict[str, Any]]:
    """The id asked for (if any) and the other attributes of ``POST /v2/images``."""
    attributes = _json(body) if body.strip() else {}
    if not isinstance(attributes, dict):
        raise BadRequest("Body expected in request: a JSON object.")
    raw_id = attributes.pop("id", None)
    return (None if raw_id is None else image_rules.image_id(raw_id)), attributes


def _attribute(path: Any) -> str:
    """The top-level attribute a JSON pointer names (``/name``, ``/os~1distro``)."""
    if not isinstance(path, str) or not path.startswith("/") or path.count("/") != 1:
        raise BadRequest(f"Invalid JSON pointer for this resource: '{path}'")
    return path[1:].replace("~1", "/").replace("~0", "~")


def _operation(change: Any) -> PatchOperation:
    if not isinstance(change, dict) or change.get("op") not in PATCH_OPS:
        raise BadRequest("Unable to find `op` in JSON Schema change. It must be one of the"
                         " following: add, remove, replace.")
    if "path" not in change:
        raise BadRequest("Unable to find 'path' in JSON Schema change")
    if change["op"] != "remove" and "value" not in change:
        raise BadRequest("Operation objects must contain exactly one member named 'value'.")
    return PatchOperation(op=change["op"], attribute=_attribute(change["path"]),
                          value=change.get("value"))


def patch_body(body: bytes) -> list[PatchOperation]:
    """The operations of a ``PATCH`` (openstack-images-v2.1-json-patch)."""
    changes = _json(body)
    if not isinstance(changes, list):
        raise BadRequest("Request body must be a JSON array of operation objects.")
    return [_operation(change) for change in changes]


def _among(raw: str) -> list[str]:
    # ``in:a,b`` is Glance's list operator; anything else is one exact value.
    return raw[3:].split(",") if raw.startswith("in:") else [raw]


def _size(params: MultiDict, name: str) -> int | None:
    raw = params.get(name)
    if raw is None:
        return None
    if not raw.isdigit():
        raise BadRequest(f"Invalid value for {name}: {raw!r}")
    return int(raw)


def _sort(params: MultiDict) -> tuple[str, str]:
    """``sort_key``/``sort_dir``, or the newer ``sort=key:dir`` (first key only)."""
    key, direction = params.get("sort_key", "created_at"), params.get("sort_dir", "desc")
    if "sort" in params:
        key, _, given = params["sort"].split(",")[0].partition(":")
        direction = given or "desc"
    if key not in SORT_KEYS:
        raise BadRequest(f"Invalid sort key: {key}. It should be one of the following:"
                         f" {', '.join(sorted(SORT_KEYS))}.")
    if direction not in ("asc", "desc"):
        raise BadRequest(f"Invalid sort direction: {direction}")
    return key, direction


def list_query(params: MultiDict, caller: Caller) -> ImageQuery:
    """The listing a query string asks for; unknown parameters filter extra properties."""
    visibility = params.get("visibility")
    if visibility is not None and visibility not in _VISIBILITIES:
        raise BadRequest(f"Invalid visibility value: {visibility}")
    protected = params.get("protected")
    sort_key, sort_dir = _sort(params)
    return ImageQuery(
        project_id=caller.project_id, is_admin=caller.is_admin, visibility=visibility,
        among={name: _among(params[name]) for name in LIST_FILTERS if name in params},
        tags=params.getall("tag", []),
        properties={k: v for k, v in params.multi_items() if k not in _NOT_PROPERTIES},
        protected=None if protected is None else paging.flag(protected, name="protected"),
        os_hidden=paging.flag(params.get("os_hidden", "false"), name="os_hidden"),
        size_min=_size(params, "size_min"), size_max=_size(params, "size_max"),
        sort_key=sort_key, sort_dir=sort_dir)


def limit(params: MultiDict) -> int:
    """The page size (Glance's default 25, at most 1000)."""
    return paging.limit(params.get("limit", str(DEFAULT_LIMIT)))
