"""Keystone v3 request bodies as msgspec Structs, and their decoding (400 when bad).

Keystone tolerates attributes it does not know, so unknown fields are ignored here too.
"""

import functools
from typing import Any, TypeVar

import msgspec

from cloud.http.faults import BadRequest
from cloud.services.auth import Ref

UNSET = msgspec.UNSET
Unset = msgspec.UnsetType
T = TypeVar("T")


class DomainRef(msgspec.Struct, kw_only=True):
    id: str | None = None
    name: str | None = None


class NamedRef(msgspec.Struct, kw_only=True):
    """A user or project in an auth request: by id, or by name and domain."""

    id: str | None = None
    name: str | None = None
    domain: DomainRef | None = None
    password: str | None = None

    def ref(self) -> Ref:
        return Ref(id=self.id, name=self.name,
                   domain_id=self.domain.id if self.domain else None,
                   domain_name=self.domain.name if self.domain else None)


class PasswordMethod(msgspec.Struct, kw_only=True):
    user: NamedRef


class AuthIdentity(msgspec.Struct, kw_only=True):
    methods: list[str]
    password: PasswordMethod | None = None


class Scope(msgspec.Struct, kw_only=True):
    project: NamedRef | None = None


class Auth(msgspec.Struct, kw_only=True):
    identity: AuthIdentity
    scope: Scope | None = None


class AuthRequest(msgspec.Struct, kw_only=True):
    auth: Auth


class ProjectCreate(msgspec.Struct, kw_only=True):
    name: str
    domain_id: str | None = None
    description: str = ""
    enabled: bool = True


class ProjectUpdate(msgspec.Struct, kw_only=True):
    name: str | Unset = UNSET
    description: str | Unset = UNSET
    enabled: bool | Unset = UNSET


class UserCreate(msgspec.Struct, kw_only=True):
    name: str
    password: str | None = None
    domain_id: str | None = None
    default_project_id: str | None = None
    email: str | None = None
    description: str | None = None
    enabled: bool = True


class UserUpdate(msgspec.Struct, kw_only=True):
    name: str | Unset = UNSET
    password: str | Unset = UNSET
    default_project_id: str | None | Unset = UNSET
    email: str | None | Unset = UNSET
    description: str | None | Unset = UNSET
    enabled: bool | Unset = UNSET


@functools.cache
def _decoder(key: str, kind: type) -> msgspec.json.Decoder:
    """Bodies are wrapped in one key: ``{"project": {...}}`` and the like."""
    return msgspec.json.Decoder(msgspec.defstruct(f"Wrapped{kind.__name__}", [(key, kind)]))


def decode(body: bytes, key: str, kind: type[T]) -> T:
    """The ``body[key]`` object as ``kind``; 400 with msgspec's reason when it is not."""
    try:
        return getattr(_decoder(key, kind).decode(body), key)
    except msgspec.DecodeError as error:
        raise BadRequest(f"Invalid input for field/attribute {key}: {error}") from None


def changes(update: msgspec.Struct) -> dict[str, Any]:
    """The fields a PATCH body set (``null`` included), by name."""
    return {field: value for field in update.__struct_fields__
            if (value := getattr(update, field)) is not UNSET}
