"""The scheduler's reads of the fleet: all of it, or only what changed since a position.

The hosts come in one statement (one snapshot) with the tracked position it shows, so
"changed since P" never misses a row: a row changed after that snapshot carries a
position greater than the one returned (see changes.py).
"""

from typing import Any

import msgspec
import psycopg

from cloud.projections import changes
from cloud.projections.aggregate_queries import AGGREGATE_SELECT, by_host
from cloud.projections.projector import NAME

Row = dict[str, Any]

# One statement, so one snapshot: the tracked position, the topics, and the hosts changed
# after %(since)s (all when NULL) with the instances they hold.
_CHANGES = (
    "SELECT (SELECT coalesce(max(position), 0) FROM projection_tracking"
    "  WHERE name = %(projection)s) AS position,"
    " (SELECT coalesce(jsonb_object_agg(topic, position), '{}') FROM read_model_changes)"
    "  AS topics,"
    " (SELECT coalesce(jsonb_agg(h ORDER BY h.name), '[]') FROM (SELECT o.name, o.vcpus,"
    "  o.memory_mb, o.disk_gb, o.vcpus_used, o.memory_mb_used, o.disk_gb_used,"
    "  o.failed_builds, o.cpu_allocation_ratio, o.ram_allocation_ratio,"
    "  o.disk_allocation_ratio, ARRAY(SELECT DISTINCT c.instance_id::text"
    "  FROM host_claims c WHERE c.host = o.name) AS instances FROM hosts o"
    "  WHERE %(since)s::bigint IS NULL OR o.changed_at > %(since)s) h)"
    "  AS hosts")
# Liveness (heartbeats) and the operator's switches of each host's compute service.
_SERVICES = (
    "SELECT h.name, s.last_seen_at, coalesce(st.disabled, false) AS disabled,"
    " coalesce(st.forced_down, false) AS forced_down FROM hosts h"
    " LEFT JOIN services s ON s.host = h.name AND s.binary_name = 'nova-compute'"
    " LEFT JOIN service_states st ON st.host = h.name AND st.binary_name = 'nova-compute'")


class FleetRead(msgspec.Struct, kw_only=True):
    """What one read found. ``None``: that part was not read (it had not changed)."""

    position: int
    hosts: list[Row]
    aggregates: dict[str, list[Row]] | None = None
    services: dict[str, Row] | None = None


def read(conn: psycopg.Connection, *, since: int | None, liveness: bool) -> FleetRead:
    """Hosts changed after ``since`` (everything when None), each with the instances it
    holds; every host's aggregates when an aggregate changed after ``since``; every
    host's service row when a service state changed, or when ``liveness`` asks for the
    heartbeats (which are not events). ``conn``: dict rows, autocommit.

    The aggregates and services are read after the hosts, so they may be newer than
    ``position``: harmless, the next read then only reads them again."""
    found = conn.execute(_CHANGES, {"projection": NAME, "since": since}).fetchone()
    position, topics = found["position"], found["topics"]  # type: ignore[index]
    moved = {topic for topic, at in topics.items() if since is None or at > since}
    return FleetRead(
        position=position, hosts=found["hosts"],  # type: ignore[index]
        aggregates=by_host(conn.execute(AGGREGATE_SELECT + " ORDER BY a.id"))
        if since is None or changes.AGGREGATES in moved else None,
        services={row["name"]: row for row in conn.execute(_SERVICES)}  # type: ignore
        if since is None or liveness or changes.SERVICE_STATES in moved else None)
