"""``/os-availability-zone``: the zones servers may be asked into (everyone), and with
``/detail`` the hosts and services in each, the ``internal`` zone included (admin).

A compute host's zone is the ``availability_zone`` of an aggregate it is in, else
``nova``; the scheduler, conductor and other non-compute services are ``internal``.
"""

import datetime as dt
from typing import Any

from litestar import Request, get

from cloud.domain import service
from cloud.domain.aggregate import INTERNAL_ZONE
from cloud.http import policy, views
from cloud.http.context import BackendDep, identity
from cloud.projections.aggregate_queries import AggregateQueries, Row
from cloud.services import compute_services


def zone_list(zones: dict[str, bool]) -> list[dict[str, Any]]:
    """Available zones first, then the others, each without hosts."""
    ordered = sorted(zones.items(), key=lambda item: (not item[1], item[0]))
    return [{"zoneName": zone, "zoneState": {"available": available}, "hosts": None}
            for zone, available in ordered if zone != INTERNAL_ZONE]


def _service_state(row: Row, now: dt.datetime) -> dict[str, Any]:
    alive = service.is_up(row["last_seen_at"], forced_down=row["forced_down"], now=now,
                          down_time=compute_services.down_time())
    return {"available": alive, "active": not row["disabled"],
            "updated_at": views.usage_time(row["last_seen_at"])}


def zone_detail(zones: dict[str, bool], host_zones: dict[str, str], services: list[Row],
                now: dt.datetime) -> list[dict[str, Any]]:
    """Each zone's enabled services by host; unavailable zones without hosts."""
    hosts: dict[str, dict[str, dict[str, Any]]] = {}
    for row in services:
        if row["disabled"]:
            continue
        zone = (host_zones.get(row["host"], INTERNAL_ZONE)
                if row["binary_name"] == service.COMPUTE else INTERNAL_ZONE)
        hosts.setdefault(zone, {}).setdefault(row["host"], {})[row["binary_name"]] = (
            _service_state(row, now))
    shown = [{"zoneName": INTERNAL_ZONE, "zoneState": {"available": True},
              "hosts": hosts[INTERNAL_ZONE]}] if INTERNAL_ZONE in hosts else []
    for zone, available in sorted(zones.items(), key=lambda item: (not item[1], item[0])):
        shown.append({"zoneName": zone, "zoneState": {"available": available},
                      "hosts": hosts.get(zone) if available else None})
    return shown


@get("/os-availability-zone", sync_to_thread=True)
def list_zones(request: Request, backend: BackendDep) -> dict[str, Any]:
    policy.authorize(identity(request), "os_compute_api:os-availability-zone:list")
    zones = AggregateQueries(backend.read_models.pool).availability_zones()
    return {"availabilityZoneInfo": zone_list(zones)}


@get("/os-availability-zone/detail", sync_to_thread=True)
def list_zones_detail(request: Request, backend: BackendDep) -> dict[str, Any]:
    policy.authorize(identity(request), "os_compute_api:os-availability-zone:detail")
    queries = AggregateQueries(backend.read_models.pool)
    return {"availabilityZoneInfo": zone_detail(
        queries.availability_zones(), queries.host_zones(), queries.services(),
        dt.datetime.now(dt.UTC))}


HANDLERS = [list_zones, list_zones_detail]
