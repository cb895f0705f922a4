"""The scheduler's picture of the fleet, kept between decisions.

Every decision needs every host (capacity, usage, ratios, aggregates, instances, whether
its compute service is up). Reading and building all of that per decision costs tens of
milliseconds at 1,000 hosts, so a scheduler process keeps the picture and, before each
decision, reads only the hosts whose rows changed since the log position it last saw
(``hosts.changed_at``), the aggregates only when one changed, and the heartbeats every few
seconds. Each host's view is rebuilt only when its inputs changed, so what it computed
(ratios, headroom) is kept too.

Staleness costs no correctness: the claim on the Host aggregate is the check, and a host
found full there is skipped. To keep a burst of decisions from piling onto the host the
projection has not yet charged, a claim this process makes is applied to its own picture
at once, until the projection's row for that host replaces it. A full read every
``full_every`` seconds bounds what a table swapped by ``cloud replay`` could leave behind.
"""

import datetime as dt
import threading
import time
from collections.abc import Callable
from typing import Any

import msgspec

from cloud.domain import service
from cloud.domain.host import Claim, Ratios, with_overrides
from cloud.domain.placement import AggregateView, HostView
from cloud.projections import fleet_queries
from cloud.projections.queries import ReadModels

Row = dict[str, Any]
LIVENESS_EVERY = 5.0  # seconds; heartbeats come every 10 s, a host is down after 60 s
FULL_EVERY = 60.0
_NEVER = dt.datetime.max.replace(tzinfo=dt.UTC)


class HostFleet:
    """Host views for placement, refreshed incrementally; safe to share across threads."""

    def __init__(self, read_models: ReadModels, *, default_ratios: Ratios = Ratios(),
                 down_time: dt.timedelta = service.SERVICE_DOWN_TIME,
                 liveness_every: float = LIVENESS_EVERY, full_every: float = FULL_EVERY,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.read_models = read_models
        self.default_ratios, self.down_time = default_ratios, down_time
        self.liveness_every, self.full_every, self.clock = liveness_every, full_every, clock
        self._lock = threading.Lock()
        self._position: int | None = None
        self._read_all_at = self._liveness_at = float("-inf")
        self._rows: dict[str, Row] = {}
        self._aggregates: dict[str, tuple[AggregateView, ...]] = {}
        self._services: dict[str, Row] = {}
        self._views: dict[str, HostView] = {}
        self._steady_until = _NEVER

    def views(self, now: dt.datetime) -> list[HostView]:
        """Every host as of the projection now, its liveness judged at ``now``."""
        with self._lock:
            rebuilt = self._refresh()
            if rebuilt is None or now >= self._steady_until:
                self._steady_until = _NEVER
                rebuilt = set(self._views)
            self._judge(rebuilt, now)
            return list(self._views.values())

    def claimed(self, host: str, instance_id: str, want: Claim) -> None:
        """This process claimed ``want`` on ``host``: count it before the projection does."""
        with self._lock:
            view = self._views.get(host)
            if view is None or instance_id in view.instances:
                return
            used = Claim(vcpus=view.used.vcpus + want.vcpus,
                         memory_mb=view.used.memory_mb + want.memory_mb,
                         disk_gb=view.used.disk_gb + want.disk_gb)
            self._views[host] = msgspec.structs.replace(
                view, used=used, instances=view.instances | {instance_id})

    def _judge(self, names: set[str], now: dt.datetime) -> None:
        """Whether each named host is up at ``now``; notes when the first of those up
        will have gone quiet too long (until then no host's answer can change)."""
        for name in names:
            view, switches = self._views[name], self._services.get(name, {})
            up = service.is_up(switches.get("last_seen_at"),
                               forced_down=switches.get("forced_down", False), now=now,
                               down_time=self.down_time)
            if view.up != up:
                self._views[name] = msgspec.structs.replace(view, up=up)
            if up:
                self._steady_until = min(self._steady_until,
                                         switches["last_seen_at"] + self.down_time)

    def _refresh(self) -> set[str] | None:
        """Read what changed and rebuild those views; returns their names, or None
        when every host's liveness must be judged again (the services were read)."""
        clock = self.clock()
        since = self._position
        if clock - self._read_all_at >= self.full_every:
            since = None
        liveness = clock - self._liveness_at >= self.liveness_every
        with self.read_models.pool.connection() as conn:
            read = fleet_queries.read(conn, since=since, liveness=liveness)  # type: ignore
        if since is not None and read.position < since:
            # The tables went back (a replay swapped them in): start over.
            self._position, self._read_all_at = None, float("-inf")
            return self._refresh()
        if since is None:
            self._read_all_at = clock
            self._rows = {}
        changed = {row["name"] for row in read.hosts}
        self._rows.update((row["name"], row) for row in read.hosts)
        if read.aggregates is not None:
            self._aggregates = {host: tuple(_aggregate_view(row) for row in rows)
                                for host, rows in read.aggregates.items()}
            changed = set(self._rows)
        if read.services is not None:
            self._liveness_at = clock
            changed |= {name for name in self._rows if _disabled(read.services, name)
                        != _disabled(self._services, name)}
            self._services = read.services
        self._position = read.position
        if since is None:
            self._views = {}
        for name in sorted(changed):
            self._views[name] = self._view(name)
        return None if read.services is not None else changed

    def _view(self, name: str) -> HostView:
        row, switches = self._rows[name], self._services.get(name, {})
        return HostView(
            name=name, vcpus=row["vcpus"], memory_mb=row["memory_mb"],
            disk_gb=row["disk_gb"], enabled=not switches.get("disabled", False),
            failed_builds=row["failed_builds"],
            ratios=with_overrides(self.default_ratios, row),
            used=Claim(vcpus=row["vcpus_used"], memory_mb=row["memory_mb_used"],
                       disk_gb=row["disk_gb_used"]),
            aggregates=self._aggregates.get(name, ()),
            instances=frozenset(row["instances"]))


def _disabled(services: dict[str, Row], name: str) -> bool:
    return services.get(name, {}).get("disabled", False)


def _aggregate_view(row: Row) -> AggregateView:
    return AggregateView(name=row["name"], metadata=row["metadata"],
                         availability_zone=row["metadata"].get("availability_zone"))
