"""Request bodies of the flavor API, checked the way Nova's JSON schemas check them, with
Nova's messages (``Invalid input for field/attribute <f>. Value: <v>. <reason>``)."""

import re
import unicodedata
import uuid
from typing import Any, NamedTuple

import msgspec

from cloud.domain.events import FlavorSpec
from cloud.http.faults import BadRequest

MAX_INT = 0x7FFFFFFF
FLOAT_MAX = 3.40282e+38
MAX_DESCRIPTION = 65535
_ID = re.compile(r"^(?! )[a-zA-Z0-9. _-]+(?<! )$")
_DIGITS = re.compile(r"^[0-9]+$")
_RXTX = re.compile(r"^[0-9]+(\.[0-9]+)?$")
SPEC_KEY = re.compile(r"^[a-zA-Z0-9-_:. ]{1,255}$")
_TRUE = ("True", "TRUE", "true", "1", "ON", "On", "on", "YES", "Yes", "yes")
_FALSE = ("False", "FALSE", "false", "0", "OFF", "Off", "off", "NO", "No", "no")
_BOOLEANS = [True, *_TRUE, False, *_FALSE]
_CREATE_FIELDS = ("name", "id", "ram", "vcpus", "disk", "OS-FLV-EXT-DATA:ephemeral", "swap",
                  "rxtx_factor", "os-flavor-access:is_public")
_INVALID_NAME = ("An invalid 'name' value was provided. The name must be: printable"
                 " characters. Can not start or end with whitespace.")


class FlavorCreate(NamedTuple):
    spec: FlavorSpec
    is_public: bool
    rxtx_factor: float
    description: str | None


def invalid(field: str, value: object, reason: str) -> BadRequest:
    return BadRequest(f"Invalid input for field/attribute {field}. Value: {value}. {reason}")


def decode(body: bytes) -> Any:
    try:
        return msgspec.json.decode(body)
    except msgspec.DecodeError as error:
        raise BadRequest(f"Malformed request body: {error}") from None


def member(document: Any, key: str, allowed: tuple[str, ...],
           required: tuple[str, ...]) -> dict[str, Any]:
    """``document[key]``: an object with only ``allowed`` and all ``required`` fields."""
    if not isinstance(document, dict) or key not in document:
        raise BadRequest(f"'{key}' is a required property")
    extra = [name for name in document if name != key]
    if extra:
        raise BadRequest(f"Additional properties are not allowed ('{extra[0]}' was unexpected)")
    inner = document[key]
    if not isinstance(inner, dict):
        raise invalid(key, inner, f"{inner!r} is not of type 'object'")
    for name in required:
        if name not in inner:
            raise invalid(key, inner, f"'{name}' is a required property")
    for name in inner:
        if name not in allowed:
            raise invalid(key, inner, "Additional properties are not allowed"
                                      f" ('{name}' was unexpected)")
    return inner


def printable(char: str, *, spaces: bool = True) -> bool:
    """Nova's printable: no control or format characters, and of the separators only
    horizontal spaces (``spaces``)."""
    category = unicodedata.category(char)
    if category.startswith("C"):
        return False
    return not category.startswith("Z") or (spaces and category == "Zs")


def _name(value: Any) -> str:
    if not isinstance(value, str):
        raise invalid("name", value, f"{value!r} is not of type 'string'")
    if not value:
        raise invalid("name", value, f"{value!r} is too short")
    if len(value) > 255:
        raise invalid("name", value, f"{value!r} is too long")
    if not all(map(printable, value)) or not (printable(value[0], spaces=False)
                                              and printable(value[-1], spaces=False)):
        raise BadRequest(_INVALID_NAME)
    return value


def _flavorid(value: Any) -> str:
    """The id asked for; none (or Nova's old ``auto``) means a new UUID."""
    if value is None or value == "auto":
        return str(uuid.uuid4())
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise invalid("id", value, f"{value!r} is not of type 'string', 'number', 'null'")
    if not isinstance(value, str):
        return str(value)
    if not value:
        raise invalid("id", value, f"{value!r} is too short")
    if len(value) > 255:
        raise invalid("id", value, f"{value!r} is too long")
    if not _ID.match(value):
        raise invalid("id", value, f"{value!r} does not match '{_ID.pattern}'")
    return value


def integer(field: str, value: Any, minimum: int) -> int:
    """An integer (or a string of digits) from ``minimum`` to Nova's MAX_INT."""
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise invalid(field, value, f"{value!r} is not of type 'integer', 'string'")
    if isinstance(value, str):
        if not _DIGITS.match(value):
            raise invalid(field, value, f"{value!r} does not match '{_DIGITS.pattern}'")
        value = int(value)
    if value < minimum:
        raise invalid(field, value, f"{value} is less than the minimum of {minimum}")
    if value > MAX_INT:
        raise invalid(field, value, f"{value} is greater than the maximum of {MAX_INT}")
    return value


def _rxtx_factor(value: Any) -> float:
    field = "rxtx_factor"
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise invalid(field, value, f"{value!r} is not of type 'number', 'string'")
    if isinstance(value, str):
        if not _RXTX.match(value):
            raise invalid(field, value, f"{value!r} does not match '{_RXTX.pattern}'")
        value = float(value)
    if value <= 0:
        raise invalid(field, value, f"{value} is less than or equal to the minimum of 0")
    if value > FLOAT_MAX:
        raise invalid(field, value, f"{value} is greater than the maximum of {FLOAT_MAX}")
    return float(value)


def boolean(field: str, value: Any) -> bool:
    if value is True or value in _TRUE:
        return True
    if value is False or value in _FALSE:
        return False
    raise invalid(field, value, f"{value!r} is not one of {_BOOLEANS}")


def description(value: Any) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise invalid("description", value, f"{value!r} is not of type 'string', 'null'")
    if len(value) > MAX_DESCRIPTION:
        raise invalid("description", value, f"{value!r} is too long")
    if not all(map(printable, value)):
        raise invalid("description", value, f"{value!r} does not match the printable"
                                            " characters")
    return value


def parse_create(body: bytes, *, with_description: bool) -> FlavorCreate:
    """``POST /flavors``; ``description`` is heard from 2.55 on."""
    allowed = (*_CREATE_FIELDS, "description") if with_description else _CREATE_FIELDS
    wanted = member(decode(body), "flavor", allowed, ("name", "ram", "vcpus", "disk"))
    spec = FlavorSpec(
        flavorid=_flavorid(wanted.get("id")), name=_name(wanted["name"]),
        ram=integer("ram", wanted["ram"], 1), vcpus=integer("vcpus", wanted["vcpus"], 1),
        disk=integer("disk", wanted["disk"], 0),
        ephemeral=integer("OS-FLV-EXT-DATA:ephemeral",
                          wanted.get("OS-FLV-EXT-DATA:ephemeral", 0), 0),
        swap=integer("swap", wanted.get("swap", 0), 0))
    return FlavorCreate(
        spec=spec, rxtx_factor=_rxtx_factor(wanted.get("rxtx_factor", 1.0)),
        is_public=boolean("os-flavor-access:is_public",
                          wanted.get("os-flavor-access:is_public", True)),
        description=description(wanted.get("description")))


def parse_update(body: bytes) -> str | None:
    """``PUT /flavors/{id}`` (2.55): the new description, the only field that changes."""
    wanted = member(decode(body), "flavor", ("description",), ("description",))
    return description(wanted["description"])


def extra_specs(specs: Any, field: str = "extra_specs") -> dict[str, str]:
    """Extra specs as stored: keys by Nova's pattern, numbers taken as strings."""
    if not isinstance(specs, dict):
        raise invalid(field, specs, f"{specs!r} is not of type 'object'")
    stored = {}
    for key, value in specs.items():
        if not SPEC_KEY.match(key):
            raise invalid(field, specs, "Additional properties are not allowed"
                                        f" ('{key}' was unexpected)")
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            raise invalid(key, value, f"{value!r} is not of type 'string', 'number'")
        text = value if isinstance(value, str) else str(value)
        if len(text) > 255:
            raise invalid(key, value, f"{value!r} is too long")
        stored[key] = text
    return stored


def parse_extra_specs(body: bytes) -> dict[str, str]:
    """``POST /flavors/{id}/os-extra_specs``: ``{"extra_specs": {key: value}}``."""
    document = decode(body)
    if not isinstance(document, dict) or "extra_specs" not in document:
        raise BadRequest("'extra_specs' is a required property")
    extra = [name for name in document if name != "extra_specs"]
    if extra:
        raise BadRequest(f"Additional properties are not allowed ('{extra[0]}' was unexpected)")
    return extra_specs(document["extra_specs"])


def parse_extra_spec(body: bytes, key: str) -> dict[str, str]:
    """``PUT /flavors/{id}/os-extra_specs/{key}``: exactly ``{key: value}``."""
    document = decode(body)
    if not isinstance(document, dict):
        raise BadRequest(f"{document!r} is not of type 'object'")
    if len(document) != 1:
        size = "does not have enough properties" if not document else "has too many properties"
        raise BadRequest(f"{document!r} {size}")
    specs = extra_specs(document, field=key)
    if key not in specs:
        raise BadRequest("Request body and URI mismatch")
    return specs


def parse_tenant(body: bytes, action: str) -> str:
    """``{"addTenantAccess"|"removeTenantAccess": {"tenant": <project id>}}``."""
    wanted = member(decode(body), action, ("tenant",), ("tenant",))
    tenant = wanted["tenant"]
    if not isinstance(tenant, str):
        raise invalid("tenant", tenant, f"{tenant!r} is not of type 'string'")
    if not 1 <= len(tenant) <= 255:
        raise invalid("tenant", tenant, f"{tenant!r} is too {'short' if not tenant else 'long'}")
    return tenant
