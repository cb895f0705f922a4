"""msgspec's validation errors in the words of Nova's JSON-schema checks:
``Invalid input for field/attribute <field>. Value: <value>. <reason>``, or the bare
reason for the body itself, with jsonschema's reasons ("'x' is too long", "'y' is a
required property", "Additional properties are not allowed ('z' was unexpected)")."""

import re
from collections.abc import Mapping, Sequence
from typing import Any

import msgspec

from cloud.http.faults import BadRequest

# msgspec's type names -> JSON schema's.
JSON_TYPES = {"str": "string", "int": "integer", "float": "number", "bool": "boolean",
              "array": "array", "object": "object", "null": "null"}
_STEP = re.compile(r"\.([^.\[\]]+)|\[(\d+|\.\.\.)\]")
_UNKNOWN_KEY = object()
_BOUNDS = {">=": "is less than the minimum of",
           ">": "is less than or equal to the minimum of",
           "<=": "is greater than the maximum of",
           "<": "is greater than or equal to the maximum of"}


def invalid(field: object, value: object, reason: str) -> BadRequest:
    """Nova's 400 for one field (``value`` shown as Nova shows it: ``str()``)."""
    return BadRequest(f"Invalid input for field/attribute {field}. Value: {value}. {reason}")


def translate(error: msgspec.ValidationError, body: bytes, *,
              enums: Mapping[str, Sequence[Any]] | None = None) -> BadRequest:
    """The 400 Nova gives for the body msgspec refused with ``error``. ``body`` is decoded
    again without a schema to show the value submitted; ``enums`` names the allowed
    values of fields whose type is a ``Literal``."""
    reason, _, where = str(error).partition(" - at `")
    # "key` in `$.x": a dictionary key of $.x broke a constraint (msgspec names no key).
    in_key = where.startswith("key` in `")
    steps = _steps(where.removeprefix("key` in `").rstrip("`"))
    try:
        document = msgspec.json.decode(body)
    except msgspec.DecodeError as decode_error:
        return BadRequest(f"Malformed request body: {decode_error}")
    value = _value_at(document, steps)
    if not steps:
        return BadRequest(_detail(reason, document, field=None, enums=enums or {}))
    if in_key or value is _UNKNOWN_KEY:
        named = [step for step in steps if step is not None] or ["body"]
        return BadRequest(f"Invalid input for field/attribute {named[-1]}. Invalid"
                          f" {'key' if in_key else 'value'}: {reason}")
    return invalid(steps[-1], value, _detail(reason, value, field=steps[-1],
                                             enums=enums or {}))


def _steps(path: str) -> list[str | int | None]:
    """``$.server.networks[0].uuid`` -> ``["server", "networks", 0, "uuid"]`` (None for
    msgspec's ``[...]``, a dictionary key it does not name)."""
    return [name if name else (None if index == "..." else int(index))
            for name, index in _STEP.findall(path.removeprefix("$"))]


def _value_at(document: Any, steps: list[str | int | None]) -> Any:
    for step in steps:
        try:
            document = document[step]
        except (KeyError, IndexError, TypeError):
            return _UNKNOWN_KEY
    return document


def _detail(reason: str, value: Any, *, field: object,
            enums: Mapping[str, Sequence[Any]]) -> str:
    """jsonschema's sentence for msgspec's ``reason`` about ``value``."""
    if match := re.fullmatch(r"Object missing required field `(.+)`", reason):
        return f"'{match[1]}' is a required property"
    if match := re.fullmatch(r"Object contains unknown field `(.+)`", reason):
        return f"Additional properties are not allowed ('{match[1]}' was unexpected)"
    if match := re.fullmatch(r"Expected `([^`]+)`, got `[^`]+`", reason):
        types = ", ".join(repr(JSON_TYPES.get(name, name)) for name in match[1].split(" | "))
        return f"{value!r} is not of type {types}"
    if match := re.fullmatch(r"Expected `[^`]+` of length (<=|>=) \d+", reason):
        return f"{value!r} is too {'long' if match[1] == '<=' else 'short'}"
    if match := re.fullmatch(r"Expected `[^`]+` (>=|>|<=|<) (\S+)", reason):
        return f"{value!r} {_BOUNDS[match[1]]} {match[2]}"
    if match := re.fullmatch(r"Expected `[^`]+` matching regex '(.*)'", reason):
        return f"{value!r} does not match {match[1]!r}"
    if reason.startswith("Invalid enum value"):
        allowed = enums.get(str(field))
        if allowed is None:
            return f"{value!r} is not valid under any of the given schemas"
        return f"{value!r} is not one of {list(allowed)!r}"
    return reason
