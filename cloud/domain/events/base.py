"""The base of every event, and the value types events carry."""

from typing import ClassVar

import msgspec


class Event(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    """Base of all events. ``routed`` events are also copied to their host's subject."""

    aggregate: ClassVar[str] = ""
    routed: ClassVar[bool] = False


class FlavorSpec(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    """The flavor as embedded in an instance (Nova keeps a copy per instance too)."""

    flavorid: str
    name: str
    vcpus: int
    ram: int
    disk: int
    ephemeral: int = 0
    swap: int = 0
    # The flavor's extra specs when the copy was taken (shown in servers from 2.47).
    extra_specs: dict[str, str] = {}


class Fault(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    code: int
    message: str
    details: str = ""

