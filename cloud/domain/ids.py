"""Deterministic stream ids for aggregates that users know by a name."""

import uuid

_NAMESPACE = uuid.UUID("6f1c3c1e-8d3e-4b7a-9f57-2b1d8f0c5a10")


def host_stream(name: str) -> uuid.UUID:
    """The stream id of the Host aggregate for a host name."""
    return uuid.uuid5(_NAMESPACE, f"host:{name}")


def flavor_stream(flavorid: str) -> uuid.UUID:
    """The stream id of the Flavor aggregate for a flavor id."""
    return uuid.uuid5(_NAMESPACE, f"flavor:{flavorid}")


def name_stream(kind: str, domain_id: str, name: str) -> uuid.UUID:
    """The stream id of the index that reserves a user or project name in a domain."""
    return uuid.uuid5(_NAMESPACE, f"name:{kind}:{domain_id}:{name}")


def role_id(name: str) -> str:
    """A role's id (hex, as Keystone shows ids): the same on every cloud for one name."""
    return uuid.uuid5(_NAMESPACE, f"role:{name}").hex


def keypair_stream(user_id: str, name: str) -> uuid.UUID:
    """The stream id of a user's Keypair aggregate: one name per user."""
    # A unit separator: neither part can hold it, so no two pairs share a stream.
    return uuid.uuid5(_NAMESPACE, f"keypair:{user_id}\x1f{name}")


def service_stream(host: str, binary: str) -> uuid.UUID:
    """The stream id of a host's Service aggregate, also the service's uuid (2.53)."""
    return uuid.uuid5(_NAMESPACE, f"service:{host}\x1f{binary}")


def compute_node_id(host: str) -> uuid.UUID:
    """The uuid of a host's hypervisor (compute node) as os-hypervisors shows it."""
    return uuid.uuid5(_NAMESPACE, f"compute_node:{host}")


def quota_set_stream(project_id: str) -> uuid.UUID:
    """The stream id of a project's QuotaSet aggregate (its limits)."""
    return uuid.uuid5(_NAMESPACE, f"quota_set:{project_id}")


def usage_stream(project_id: str) -> uuid.UUID:
    """The stream id of a project's ProjectUsage aggregate (what counts against quota)."""
    return uuid.uuid5(_NAMESPACE, f"project_usage:{project_id}")
