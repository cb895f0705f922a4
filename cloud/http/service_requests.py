"""Request bodies of ``PUT /os-services/...``, checked as Nova's JSON schemas check them
(field sets by microversion, Nova's messages), and the path ids of services and
hypervisors (an integer before 2.53, a uuid from it)."""

import re
import uuid
from collections.abc import Callable
from typing import Any

import msgspec

from cloud.http import paging
from cloud.http.faults import BadRequest

Check = Callable[[str, Any], Any]
_FQDN = re.compile(r"^[a-zA-Z0-9-._]*$")
# The spellings Nova's ``boolean`` parameter type accepts, in its order.
_TRUE = [True, "True", "TRUE", "true", "1", "ON", "On", "on", "YES", "Yes", "yes"]
_FALSE = [False, "False", "FALSE", "false", "0", "OFF", "Off", "off", "NO", "No", "no"]
STATUSES = ["enabled", "disabled"]


def _invalid(field: str, value: Any, reason: str, *,
             kind: str = "field/attribute") -> BadRequest:
    return BadRequest(f"Invalid input for {kind} {field}. Value: {value}. {reason}")


def _string(field: str, value: Any) -> str:
    if not isinstance(value, str):
        raise _invalid(field, value, f"{value!r} is not of type 'string'")
    if not value:
        raise _invalid(field, value, f"{value!r} is too short")
    if len(value) > 255:
        raise _invalid(field, value, f"{value!r} is too long")
    return value


def _fqdn(field: str, value: Any) -> str:
    if not _FQDN.match(_string(field, value)):
        raise _invalid(field, value, f"{value!r} does not match '{_FQDN.pattern}'")
    return value


def boolean(field: str, value: Any, *, kind: str = "field/attribute") -> bool:
    """A JSON boolean, or one of the strings Nova reads as one (``kind`` names where
    it came from in the message: a body field or "query parameters")."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value in _TRUE + _FALSE:
        return value in _TRUE
    raise _invalid(field, value, f"{value!r} is not one of {_TRUE + _FALSE}", kind=kind)


def _status(field: str, value: Any) -> str:
    if value not in STATUSES:
        raise _invalid(field, value, f"{value!r} is not one of {STATUSES}")
    return value


LEGACY = {"host": _fqdn, "binary": _string, "disabled_reason": _string}
LEGACY_2_11 = {**LEGACY, "forced_down": boolean}
V2_53 = {"status": _status, "disabled_reason": _string, "forced_down": boolean}


def _object(body: bytes) -> dict[str, Any]:
    try:
        decoded = msgspec.json.decode(body) if body.strip() else None
    except msgspec.DecodeError:
        raise BadRequest("Malformed request body") from None
    if not isinstance(decoded, dict):
        raise BadRequest(f"{decoded!r} is not of type 'object'")
    return decoded


def parse(body: bytes, fields: dict[str, Check], *,
          required: tuple[str, ...] = ()) -> dict[str, Any]:
    """The body's fields, each checked; unknown or missing required ones are a 400."""
    decoded = _object(body)
    for name in required:
        if name not in decoded:
            raise BadRequest(f"'{name}' is a required property")
    paging.only(decoded, set(fields))
    return {name: fields[name](name, value) for name, value in decoded.items()}


def is_uuid(text: str) -> bool:
    """Nova's ``is_uuid_like``: any spelling ``uuid.UUID`` reads, dashes or not."""
    try:
        uuid.UUID(text)
    except ValueError:
        return False
    return True


def integer(text: str) -> int | None:
    """The path id as an integer, or None when it is not one."""
    try:
        return int(text.strip())
    except ValueError:
        return None
