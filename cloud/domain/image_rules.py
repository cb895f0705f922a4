"""What each image attribute may hold (Glance's image schema as data), and the refusals
an image can give."""

import uuid
from collections.abc import Callable
from typing import Any, Final

from cloud.domain.errors import DomainError, Invalid, NotFound

PUBLIC: Final = "public"
VISIBILITIES: Final = ("public", "private", "shared", "community")
DEFAULT_VISIBILITY: Final = "shared"
DISK_FORMATS: Final = ("ami", "ari", "aki", "vhd", "vhdx", "vmdk", "raw", "qcow2", "vdi",
                       "iso", "ploop")
CONTAINER_FORMATS: Final = ("ami", "ari", "aki", "bare", "ovf", "ova", "docker",
                            "compressed")
# Set by the service, never by a request.
READ_ONLY: Final = frozenset({"id", "status", "size", "virtual_size", "checksum",
                              "os_hash_algo", "os_hash_value", "created_at", "updated_at",
                              "self", "file", "schema", "direct_url", "locations", "stores"})
RESERVED: Final = frozenset({"location", "deleted", "deleted_at"})
RESERVED_PREFIX: Final = "os_glance"
# Attributes that only a queued image (one without data) may change.
QUEUED_ONLY: Final = frozenset({"disk_format", "container_format"})
MAX_TEXT: Final = 255
MAX_PROPERTY_VALUE: Final = 65535


class ImageNotFound(NotFound):
    """No image with that id, or none the caller may see (a 404 either way)."""

    def __init__(self, image_id: str) -> None:
        DomainError.__init__(self, f"No image found with ID {image_id}")
        self.kind, self.key = "Image", image_id


class ImageForbidden(DomainError):
    """The caller may not do this (a 403)."""


class ImageConflict(DomainError):
    """Not in this state: a duplicate id, a wrong status, a missing property (a 409)."""


def invalid(message: str) -> Invalid:
    """A 400 in the words Glance uses for a body that fails its schema."""
    return Invalid(f"Provided object does not match schema 'image': {message}")


def image_id(raw: Any) -> str:
    """A client-chosen image id: a UUID, in its canonical spelling."""
    try:
        return str(uuid.UUID(raw))
    except (TypeError, ValueError, AttributeError):
        raise invalid(f"{raw!r} is not a 'uuid'") from None


def _text(name: str, value: Any) -> str | None:
    if value is not None and not isinstance(value, str):
        raise invalid(f"{value!r} is not of type 'string', 'null' ({name})")
    if value is not None and len(value) > MAX_TEXT:
        raise invalid(f"{name} is longer than {MAX_TEXT} characters")
    return value


def _one_of(choices: tuple[str, ...], *, nullable: bool) -> Callable[[str, Any], Any]:
    def check(name: str, value: Any) -> Any:
        if value is None and nullable:
            return None
        if value not in choices:
            raise invalid(f"{value!r} is not one of {list(choices)} ({name})")
        return value
    return check


def _count(name: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < 2**31:
        raise invalid(f"{value!r} is not a non-negative integer ({name})")
    return value


def _flag(name: str, value: Any) -> bool:
    if not isinstance(value, bool):
        raise invalid(f"{value!r} is not of type 'boolean' ({name})")
    return value


def _tags(name: str, value: Any) -> list[str]:
    if not isinstance(value, list):
        raise invalid(f"{value!r} is not of type 'array' ({name})")
    tags: list[str] = []
    for tag in value:
        if not isinstance(tag, str) or not 0 < len(tag) <= MAX_TEXT:
            raise invalid(f"{tag!r} is not a tag of 1 to {MAX_TEXT} characters")
        if tag not in tags:
            tags.append(tag)
    return tags


# The settable core attributes and how each value is checked.
CORE: Final[dict[str, Callable[[str, Any], Any]]] = {
    "name": _text,
    "owner": _text,
    "visibility": _one_of(VISIBILITIES, nullable=False),
    "disk_format": _one_of(DISK_FORMATS, nullable=True),
    "container_format": _one_of(CONTAINER_FORMATS, nullable=True),
    "min_disk": _count,
    "min_ram": _count,
    "protected": _flag,
    "os_hidden": _flag,
    "tags": _tags,
}


def check_value(name: str, value: Any) -> Any:
    """A core attribute's value, checked."""
    return CORE[name](name, value)


def check_property(name: str, value: Any) -> str:
    """An extra property: a string under a name of 1 to 255 characters."""
    if not 0 < len(name) <= MAX_TEXT:
        raise invalid(f"property names have 1 to {MAX_TEXT} characters: {name!r}")
    if not isinstance(value, str):
        raise invalid(f"{value!r} is not of type 'string' ({name})")
    if len(value) > MAX_PROPERTY_VALUE:
        raise invalid(f"{name} is longer than {MAX_PROPERTY_VALUE} characters")
    return value


def refuse_immutable(name: str) -> None:
    """Read-only and reserved attributes cannot be given (a 403, as in Glance)."""
    if name in READ_ONLY:
        raise ImageForbidden(f"Attribute '{name}' is read-only.")
    if name in RESERVED or name.startswith(RESERVED_PREFIX):
        raise ImageForbidden(f"Attribute '{name}' is reserved.")
