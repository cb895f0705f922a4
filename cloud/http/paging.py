"""Query parameters shared by list calls: ``limit``, ``marker``, boolean flags, and
the refusal of unknown ones."""

from collections.abc import Callable, Iterable, Sequence
from typing import Any, TypeVar

from cloud.http.faults import BadRequest

MAX_LIMIT = 1000
_TRUE = frozenset({"1", "t", "true", "on", "y", "yes"})
_FALSE = frozenset({"0", "f", "false", "off", "n", "no"})

Item = TypeVar("Item")


def limit(raw: str | None) -> int:
    """The page size asked for, capped at ``MAX_LIMIT`` (the cap when absent)."""
    if raw is None:
        return MAX_LIMIT
    try:
        value = int(raw)
    except ValueError:
        raise BadRequest("limit param must be an integer") from None
    if value < 0:
        raise BadRequest("limit param must be positive")
    return min(value, MAX_LIMIT)


def marker_not_found(marker: str) -> BadRequest:
    return BadRequest(f"marker [{marker}] not found")


def after_marker(items: Sequence[Item], marker: str | None,
                 key: Callable[[Item], Any]) -> Sequence[Item]:
    """The items following the one whose key is ``marker`` (all of them without one)."""
    if marker is None:
        return items
    for index, item in enumerate(items):
        if key(item) == marker:
            return items[index + 1:]
    raise marker_not_found(marker)


def is_full(page: Sequence[Any], page_limit: int) -> bool:
    """Whether a page may have a successor, so a ``next`` link belongs on it."""
    return bool(page) and len(page) == page_limit


def flag(raw: str, *, name: str) -> bool:
    """A boolean query parameter in oslo's spellings."""
    lowered = raw.strip().lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise BadRequest(f"Invalid {name} filter [{raw}]")


def only(params: Iterable[str], allowed: set[str]) -> None:
    """Refuse names not ``allowed`` (query parameters, or a body's fields) in the words
    of Nova's schema (400)."""
    unexpected = [name for name in params if name not in allowed]
    if unexpected:
        listed = ", ".join(f"'{name}'" for name in unexpected)
        verb = "were" if len(unexpected) > 1 else "was"
        raise BadRequest(f"Additional properties are not allowed ({listed} {verb}"
                         " unexpected)")
