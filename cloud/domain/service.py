"""The Service aggregate: an operator's switches on one service (binary) of one host.

A service's liveness is not history (heartbeats overwrite one row); what an operator
decides about it is: disabling, enabling, forcing down and deleting are events, on a
stream per (host, binary) whose id is also the service's uuid from microversion 2.53.
"""

import datetime as dt

import msgspec

from cloud.domain.errors import Conflict, Invalid
from cloud.domain.events import (
    Event,
    ServiceDeleted,
    ServiceDisabled,
    ServiceEnabled,
    ServiceForcedDown,
)

COMPUTE, SCHEDULER, CONDUCTOR = "nova-compute", "nova-scheduler", "nova-conductor"
# Services that are not computes live in Nova's internal zone.
INTERNAL_ZONE = "internal"
# Nova's service_down_time: a service whose last heartbeat is older is down.
SERVICE_DOWN_TIME = dt.timedelta(seconds=60)
# Only a compute's switches mean anything (the scheduler reads them), as in Nova.
UPDATABLE = frozenset({COMPUTE})
ENABLED, DISABLED = "enabled", "disabled"


class Service(msgspec.Struct, frozen=True, kw_only=True):
    host: str
    binary: str
    disabled: bool = False
    disabled_reason: str | None = None
    forced_down: bool = False


class HostingServers(Conflict):
    """A compute service cannot be deleted while its host runs servers (a 409)."""

    def __init__(self, host: str) -> None:
        super().__init__("Unable to delete compute service that is hosting instances."
                         " Migrate or delete the instances first.")
        self.host = host


def check_updatable(binary: str) -> None:
    """Only a compute service can be switched (a 400 otherwise)."""
    if binary not in UPDATABLE:
        raise Invalid(f"Updating a {binary} service is not supported. Only"
                      " nova-compute services can be updated.")


def disable(service: Service, *, reason: str | None = None) -> list[Event]:
    """Keep the scheduler off this host; nothing new if already so, for that reason."""
    check_updatable(service.binary)
    if service.disabled and service.disabled_reason == reason:
        return []
    return [ServiceDisabled(host=service.host, binary=service.binary, reason=reason)]


def enable(service: Service) -> list[Event]:
    """Put the host back in rotation (its reason is forgotten)."""
    check_updatable(service.binary)
    if not service.disabled:
        return []
    return [ServiceEnabled(host=service.host, binary=service.binary)]


def force_down(service: Service, *, forced_down: bool) -> list[Event]:
    """Declare the service down (fencing, before an evacuation), or lift that."""
    check_updatable(service.binary)
    if service.forced_down == forced_down:
        return []
    return [ServiceForcedDown(host=service.host, binary=service.binary,
                              forced_down=forced_down)]


def update(service: Service, *, status: str | None = None, reason: str | None = None,
           forced_down: bool | None = None) -> list[Event]:
    """Microversion 2.53's one update: a status (with an optional reason) and/or
    forced_down."""
    check_updatable(service.binary)
    if status is None and forced_down is None:
        raise Invalid("No updates were requested. Fields 'status' or 'forced_down'"
                      " should be specified.")
    if status == ENABLED and reason:
        raise Invalid("Specifying 'disabled_reason' with status 'enabled' is invalid.")
    events: list[Event] = []
    if status == ENABLED:
        events += enable(service)
    elif status == DISABLED:
        events += disable(service, reason=reason)
    if forced_down is not None:
        events += force_down(service, forced_down=forced_down)
    return events


def delete(service: Service, *, servers_hosted: int = 0) -> list[Event]:
    """Forget the service; a heartbeat after this brings back a fresh, enabled one.
    A compute that still hosts servers stays (their accounting would be orphaned)."""
    if service.binary == COMPUTE and servers_hosted:
        raise HostingServers(service.host)
    return [ServiceDeleted(host=service.host, binary=service.binary)]


def evolve(service: Service, event: Event) -> Service:
    """Apply one recorded event."""
    match event:
        case ServiceDisabled():
            return msgspec.structs.replace(service, disabled=True,
                                           disabled_reason=event.reason)
        case ServiceEnabled():
            return msgspec.structs.replace(service, disabled=False, disabled_reason=None)
        case ServiceForcedDown():
            return msgspec.structs.replace(service, forced_down=event.forced_down)
        case ServiceDeleted():
            return Service(host=service.host, binary=service.binary)
    return service


def is_up(last_seen_at: dt.datetime | None, *, forced_down: bool, now: dt.datetime,
          down_time: dt.timedelta = SERVICE_DOWN_TIME) -> bool:
    """Up: it beat within ``down_time`` and no operator forced it down."""
    return (not forced_down and last_seen_at is not None
            and now - last_seen_at <= down_time)
