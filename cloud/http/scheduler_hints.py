"""What a server create asks of the scheduler: ``OS-SCH-HNT:scheduler_hints`` (or the
older ``os:scheduler_hints``) and the ``availability_zone``, checked at the edge.

``group``, ``same_host`` and ``different_host`` take effect; the others Nova knows
(``query``, ``build_near_host_ip``, ``cidr``, ``target_cell``, ...) are recorded with the
request and shown from 2.100, without effect.
"""

import uuid
from typing import Any

import msgspec
from litestar import Request

from cloud.domain.server_group import hinted_group
from cloud.http import policy
from cloud.http.context import Backend, identity
from cloud.http.faults import BadRequest
from cloud.projections.aggregate_queries import AggregateQueries

_SERVER_LISTS = ("same_host", "different_host")


class _Hints(msgspec.Struct, kw_only=True):
    """Only the hints of a create body; ``server`` is decoded elsewhere."""

    hints: dict[str, Any] | None = msgspec.field(default=None,
                                                 name="OS-SCH-HNT:scheduler_hints")
    legacy: dict[str, Any] | None = msgspec.field(default=None, name="os:scheduler_hints")


_decoder = msgspec.json.Decoder(_Hints)


def _invalid(field: str, value: object) -> BadRequest:
    return BadRequest(f"Invalid input for field/attribute {field}. Value: {value}."
                      f" {value!r} is not a 'uuid'")


def _is_uuid(item: object) -> bool:
    try:
        return isinstance(item, str) and bool(uuid.UUID(item))
    except ValueError:
        return False


def _uuids(field: str, value: object) -> None:
    """A server or group reference: one uuid, or a list of them."""
    if not all(_is_uuid(item) for item in (value if isinstance(value, list) else [value])):
        raise _invalid(field, value)


def parse(body: bytes) -> dict[str, Any]:
    """The hints given (Nova prefers ``os:scheduler_hints`` when both are there)."""
    try:
        decoded = _decoder.decode(body)
    except (msgspec.ValidationError, msgspec.DecodeError) as error:
        raise BadRequest(f"Invalid input for field/attribute scheduler_hints: {error}") from None
    hints = decoded.legacy if decoded.legacy is not None else decoded.hints or {}
    for field in ("group", *_SERVER_LISTS):
        if field in hints:
            _uuids(field, hints[field])
    return hints


def _check_group(request: Request, queries: AggregateQueries, group_id: str) -> None:
    """The group must exist and be the caller's project's (an admin's: any)."""
    row = queries.server_group(group_id)
    caller = identity(request)
    if row is None or (row["project_id"] != caller.project_id
                       and not policy.is_admin(caller)):
        raise BadRequest(f"Instance group {group_id} could not be found.")


def _check_zone(queries: AggregateQueries, zone: str | None) -> None:
    if zone is not None and not queries.availability_zones().get(zone, False):
        raise BadRequest("The requested availability zone is not available")


def options(request: Request, backend: Backend, body: bytes,
            availability_zone: str | None) -> dict[str, Any]:
    """The create options for scheduling (400 for an unknown group or zone)."""
    hints = parse(body)
    queries = AggregateQueries(backend.read_models.pool)
    group_id = hinted_group(hints)
    if group_id is not None:
        _check_group(request, queries, group_id)
    _check_zone(queries, availability_zone)
    return {"scheduler_hints": hints} if hints else {}
