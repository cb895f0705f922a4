"""os-services use cases: load a host's Service aggregate, decide, save; and the
settings every reader of service state shares."""

import datetime as dt
import os
import socket
from collections.abc import Callable

from cloud.adapters.eventstore import Batch, EventStore
from cloud.domain import ids, service
from cloud.domain.envelope import Context
from cloud.domain.events import Event
from cloud.domain.service import Service

Decide = Callable[[Service], list[Event]]


def down_time(env: dict[str, str] | None = None) -> dt.timedelta:
    """Nova's service_down_time: ``CLOUD_SERVICE_DOWN_TIME`` seconds (60 by default)."""
    raw = (os.environ if env is None else env).get("CLOUD_SERVICE_DOWN_TIME")
    return dt.timedelta(seconds=float(raw)) if raw else service.SERVICE_DOWN_TIME


def this_host(env: dict[str, str] | None = None) -> str:
    """The host name a scheduler or conductor reports as (Nova's ``host`` option)."""
    return (os.environ if env is None else env).get("CLOUD_SERVICE_HOST") \
        or socket.gethostname()


def load_service(store: EventStore, host: str, binary: str) -> tuple[Service, int]:
    """The service's switches (all off if never touched) and its stream version."""
    state, version = Service(host=host, binary=binary), 0
    for envelope in store.load(ids.service_stream(host, binary)):
        state, version = service.evolve(state, envelope.data), envelope.version
    return state, version


def _save(store: EventStore, host: str, binary: str, decide: Decide,
          context: Context) -> list[int]:
    # A concurrent change surfaces as Conflict (409): the operator looks and retries.
    current, version = load_service(store, host, binary)
    return store.append(Batch(ids.service_stream(host, binary), f"{host}:{binary}",
                              version, decide(current)), context=context)


def disable(store: EventStore, host: str, binary: str, *, reason: str | None,
            context: Context) -> list[int]:
    return _save(store, host, binary, lambda s: service.disable(s, reason=reason), context)


def enable(store: EventStore, host: str, binary: str, *, context: Context) -> list[int]:
    return _save(store, host, binary, service.enable, context)


def force_down(store: EventStore, host: str, binary: str, *, forced_down: bool,
               context: Context) -> list[int]:
    return _save(store, host, binary,
                 lambda s: service.force_down(s, forced_down=forced_down), context)


def update(store: EventStore, host: str, binary: str, *, status: str | None,
           reason: str | None, forced_down: bool | None, context: Context) -> list[int]:
    """Microversion 2.53's combined update. Raises Invalid."""
    return _save(store, host, binary, lambda s: service.update(
        s, status=status, reason=reason, forced_down=forced_down), context)


def delete(store: EventStore, host: str, binary: str, *, servers_hosted: int,
           context: Context) -> list[int]:
    """Forget a service. Raises HostingServers for a compute that runs servers."""
    return _save(store, host, binary,
                 lambda s: service.delete(s, servers_hosted=servers_hosted), context)
