"""Checks of the server attributes users set (create, update, metadata, tags), with
Nova's messages."""

import ipaddress
import re
from typing import Any

from cloud.http.faults import BadRequest

# Nova's metadata keys: these characters, 1 to 255 of them; values at most 255.
METADATA_KEY = re.compile(r"^[a-zA-Z0-9-_:. ]{1,255}$")
MAX_TAG_LENGTH = 60
# Nova's hostname (2.90): RFC 1123 labels, at most 63 characters in all.
HOSTNAME = re.compile(r"^[a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?$")
_TRUE = {"true", "1", "on", "yes"}
_FALSE = {"false", "0", "off", "no"}


def access_ip(name: str, value: Any, *, version: int) -> str:
    """An ``accessIPv4``/``accessIPv6`` value: an address of that IP version."""
    try:
        address = ipaddress.ip_address(value) if isinstance(value, str) else None
    except ValueError:
        address = None
    if address is None or address.version != version:
        raise BadRequest(f"Invalid input for field/attribute {name}. Value: {value}."
                         f" '{value}' is not a 'ipv{version}'")
    return value


def metadata(name: str, items: Any) -> dict[str, str]:
    """A metadata object: string keys of Nova's characters, string values <= 255."""
    if not isinstance(items, dict):
        raise BadRequest(f"Invalid input for field/attribute {name}. Value: {items}."
                         f" {items!r} is not of type 'object'")
    for key, value in items.items():
        if not METADATA_KEY.match(key):
            raise BadRequest(f"Invalid input for field/attribute {name}. Value: {items}."
                             f" Additional properties are not allowed ('{key}' was"
                             " unexpected)")
        if not isinstance(value, str) or len(value) > 255:
            raise BadRequest(f"Invalid input for field/attribute {key}. Value: {value}."
                             f" {value!r} is not a string of at most 255 characters")
    return items


def is_valid_tag(tag: Any) -> bool:
    return (isinstance(tag, str) and 0 < len(tag) <= MAX_TAG_LENGTH
            and "/" not in tag and "," not in tag)


def tags(values: Any, *, field: str = "tags") -> list[str]:
    """A list of tags (PUT /servers/{id}/tags, create from 2.52)."""
    if not isinstance(values, list):
        raise BadRequest(f"Invalid input for field/attribute {field}. Value: {values}."
                         f" {values!r} is not of type 'array'")
    invalid = [tag for tag in values if not is_valid_tag(tag)]
    if invalid:
        raise BadRequest(f"Tags '{invalid}' are invalid. Each tag must be a string"
                         " without characters '/' and ','.")
    return values


def tag(value: str) -> str:
    """One tag named in a URL."""
    if not is_valid_tag(value):
        raise BadRequest(f"Tag '{value}' is invalid. It must be a non empty string"
                         " without characters '/' and ',' of at most"
                         f" {MAX_TAG_LENGTH} characters.")
    return value


def hostname(value: Any) -> str:
    if not isinstance(value, str) or not HOSTNAME.match(value):
        raise BadRequest(f"Invalid input for field/attribute hostname. Value: {value}."
                         f" {value!r} is not a valid hostname")
    return value


def flag(name: str, value: Any) -> bool:
    """A boolean in Nova's spellings (JSON true/false or strings like "True")."""
    if isinstance(value, bool):
        return value
    lowered = value.strip().lower() if isinstance(value, str) else None
    if lowered in _TRUE or lowered in _FALSE:
        return lowered in _TRUE
    raise BadRequest(f"Invalid input for field/attribute {name}. Value: {value}."
                     f" {value!r} is not a boolean")
