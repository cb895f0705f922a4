"""Deterministic stream ids for aggregates that users know by a name."""

import uuid

_NAMESPACE = uuid.UUID("6f1c3c1e-8d3e-4b7a-9f57-2b1d8f0c5a10")


def host_stream(name: str) -> uuid.UUID:
    """The stream id of the Host aggregate for a host name."""
    return uuid.uuid5(_NAMESPACE, f"host:{name}")


def flavor_stream(flavorid: str) -> uuid.UUID:
    """The stream id of the Flavor aggregate for a flavor id."""
    return uuid.uuid5(_NAMESPACE, f"flavor:{flavorid}")
