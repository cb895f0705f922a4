"""A log that exercises every kind of fold the instance and host read models have, in
the order a cloud would write it: boots (some rescheduled, some failed, some deleted
before scheduling), every server action with its outcome or failure, edits, locks,
zones, redeliveries and events without a request id."""

import random
import uuid
from collections.abc import Iterator

from cloud.adapters.eventstore import Recorded
from cloud.domain import events as ev
from cloud.domain.envelope import Actor, Envelope
from cloud.domain.flavor import DEFAULT_FLAVORS
from cloud.domain.ids import host_stream

HOSTS = ("fold-h1", "fold-h2", "fold-h3")
USER, AGENT = Actor(user_id="u1", project_id="p1"), Actor(agent="compute:fold")
FAULT = ev.Fault(code=500, message="boom", details="trace")
_DONE = {ev.InstanceStopRequested: (ev.InstanceStopped, 4),
         ev.InstanceStartRequested: (ev.InstanceStarted, 1),
         ev.InstanceRebootRequested: (ev.InstanceRebooted, 1),
         ev.InstancePauseRequested: (ev.InstancePaused, 3),
         ev.InstanceUnpauseRequested: (ev.InstanceUnpaused, 1),
         ev.InstanceSuspendRequested: (ev.InstanceSuspended, 7),
         ev.InstanceResumeRequested: (ev.InstanceResumed, 1)}


class Log:
    """Envelopes with contiguous versions per stream and rising timestamps."""

    def __init__(self) -> None:
        self.envelopes: list[Envelope] = []
        self.versions: dict[str, int] = {}
        self.second = 0

    def add(self, stream: str, event: ev.Event, actor: Actor = AGENT,
            request: str | None = "auto", again: bool = False) -> None:
        """Append an event (``again``: the last one of the stream, redelivered)."""
        version = self.versions[stream] = self.versions.get(stream, 0) + (0 if again else 1)
        self.second += 1
        request_id = f"req-{stream[:8]}-{version}" if request == "auto" else request
        self.envelopes.append(Envelope(
            event=ev.event_name(event), aggregate=event.aggregate, id=stream, key=stream,
            version=version, timestamp=f"2024-01-01T{self.second // 3600 % 24:02d}:"
            f"{self.second // 60 % 60:02d}:{self.second % 60:02d}+00:00",
            request_id=request_id, actor=actor, data=event))

    def records(self) -> list[Recorded]:
        return [Recorded(position=n, envelope=env, payload=b"")
                for n, env in enumerate(self.envelopes, start=1)]


def _boot(log: Log, sid: str, n: int, rng: random.Random,
          plain: bool) -> Iterator[str | None]:
    """Request, claim, schedule (maybe rescheduled), spawn or fail; yields the host the
    server runs on (None when it never ran) after each step. ``plain``: no failures,
    some never scheduled."""
    flavor = DEFAULT_FLAVORS[n % len(DEFAULT_FLAVORS)]
    log.add(sid, ev.InstanceRequested(
        name=f"vm-{n}", project_id="p1", user_id="u1", flavor=flavor, image_ref="img",
        metadata={"k": str(n)}, tags=["b", "a", "b"][: n % 4], launch_index=n % 3,
        scheduler_hints={"group": "g"} if n % 4 == 0 else {},
        trusted_image_certificates=["cert"] if n % 5 == 0 else None), USER)
    if n % 19 == 4:  # the request, appended twice
        log.add(sid, ev.InstanceRequested(
            name=f"vm-{n}", project_id="p1", user_id="u1", flavor=flavor,
            image_ref="img"), USER, again=True)
    yield None
    if plain and n % 17 == 9:
        return  # deleted before it is scheduled
    if n % 11 == 3 and not plain:  # no valid host: fails before any host
        log.add(sid, ev.InstanceFailed(fault=FAULT), request=None)
        yield None
        return
    host = HOSTS[n % len(HOSTS)]
    stream = str(host_stream(host))
    log.add(stream, ev.ResourcesClaimed(host=host, instance_id=sid, vcpus=flavor.vcpus,
                                        memory_mb=flavor.ram, disk_gb=flavor.disk))
    log.add(sid, ev.InstanceScheduled(host=host, node=host, name=f"vm-{n}", flavor=flavor,
                                      image_ref="img"))
    yield None
    if n % 7 == 2 and not plain:  # the first host fails the build, a second attempt spawns
        log.add(sid, ev.InstanceRescheduled(failed_host=host, attempt=1, reason="x"))
        log.add(stream, ev.ResourcesReleased(host=host, instance_id=sid))
        log.add(sid, ev.InstanceScheduled(host=host, node=host, name=f"vm-{n}",
                                          flavor=flavor, image_ref="img"))
        log.add(stream, ev.ResourcesClaimed(host=host, instance_id=sid, vcpus=1,
                                            memory_mb=512, disk_gb=1))
        yield None
    if n % 13 == 5 and not plain:
        log.add(sid, ev.InstanceFailed(fault=FAULT, host=host))
        yield None
        return
    log.add(sid, ev.InstanceSpawned(host=host, power_state=1), request=None)
    if rng.random() < 0.2:
        log.add(sid, ev.InstanceSpawned(host=host, power_state=1), request=None, again=True)
    yield host


def _act(log: Log, sid: str, host: str, n: int, rng: random.Random) -> Iterator[None]:
    """A few server actions, edits and locks on a running server, one per step."""
    flavor, bigger = DEFAULT_FLAVORS[0], DEFAULT_FLAVORS[1]
    for _ in range(rng.randrange(1, 6)):
        kind = rng.randrange(9)
        if kind < 2:
            ask = rng.choice(list(_DONE))
            log.add(sid, ask(host=host), USER)
            done, power = _DONE[ask]
            log.add(sid, done(host=host, power_state=power) if rng.random() < 0.8 else
                    ev.InstanceActionFailed(host=host, action=ask.__name__,
                                            vm_state="active", fault=FAULT))
        elif kind == 2:
            log.add(sid, ev.InstanceRebuildRequested(
                host=host, image_ref="img2", name=f"re-{n}", flavor=flavor,
                metadata={"r": "1"}, trusted_image_certificates=None), USER)
            log.add(sid, ev.InstanceRebuilt(host=host, power_state=1, image_ref="img2"))
        elif kind == 3:
            log.add(sid, ev.InstanceResizeRequested(host=host, name=f"vm-{n}",
                                                    image_ref="img", old_flavor=flavor,
                                                    flavor=bigger), USER)
            log.add(sid, ev.InstanceResized(host=host, power_state=1))
            if rng.random() < 0.5:
                log.add(sid, ev.InstanceResizeConfirmed(host=host), USER)
            else:
                log.add(sid, ev.InstanceResizeRevertRequested(
                    host=host, name=f"vm-{n}", image_ref="img", flavor=flavor), USER)
                log.add(sid, ev.InstanceResizeReverted(host=host, power_state=1))
        elif kind == 4:
            log.add(sid, ev.InstanceResizeConfirmed(host=host), USER)  # nothing open
        elif kind == 5:
            log.add(sid, ev.InstanceLocked(reason="why", by="admin"), USER)
            log.add(sid, ev.InstanceUnlocked(), USER, request=None)
        elif kind == 6:
            log.add(sid, ev.InstanceUpdated(name=f"new-{n}", access_ipv4="10.0.0.1"), USER)
            log.add(sid, ev.InstanceMetadataSet(metadata={"a": "1", "b": "2"}), USER)
            log.add(sid, ev.InstanceMetadataDeleted(key="a"), USER)
        elif kind == 7:
            log.add(sid, ev.InstanceTagsSet(tags=["z", "y"]), USER)
            log.add(sid, ev.InstanceTagAdded(tag="x"), USER)
            log.add(sid, ev.InstanceTagDeleted(tag="z"), USER)
        else:
            log.add(sid, ev.InstanceStateReset(vm_state="error"), request=None)
            log.add(sid, ev.InstancePowerObserved(host=host, power_state=4,
                                                  vm_state="stopped"), request=None)
        yield


def _lifecycle(log: Log, n: int, rng: random.Random, plain: bool) -> Iterator[None]:
    sid = str(uuid.UUID(int=n + 1))
    host = None
    for host in _boot(log, sid, n, rng, plain):
        yield
    if n % 17 == 9 and host is None:  # deleted before it was scheduled: no host
        log.add(sid, ev.InstanceDeleteRequested(host=None), USER)
        log.add(sid, ev.InstanceDeleted(host=None))
        return
    if host is not None and not plain:
        yield from _act(log, sid, host, n, rng)
    if n % 3 == 0:
        return  # stays
    log.add(sid, ev.InstanceDeleteRequested(host=host), USER)
    yield
    if n % 10 == 7:  # asked again before it is gone: two terminate steps open
        log.add(sid, ev.InstanceDeleteRequested(host=host), USER)
        yield
    log.add(sid, ev.InstanceDeleted(host=host), request=None)
    if host is not None:
        log.add(str(host_stream(host)), ev.ResourcesReleased(host=host, instance_id=sid))


def _zones(log: Log) -> None:
    """An aggregate with a zone on the first host (servers scheduled there get it)."""
    agg = str(uuid.UUID(int=10**9))
    log.add(agg, ev.AggregateCreated(name="zone-agg", availability_zone="az1"), USER)
    log.add(agg, ev.AggregateHostAdded(host=HOSTS[0]), USER)


def make_log(servers: int = 300, in_flight: int = 40, seed: int = 7,
             plain: bool = False) -> list[Recorded]:
    """Hosts (one registered again midway), a zone, and interleaved server lifecycles.
    ``plain``: only boots that work and deletes, as most of a busy cloud's log is (the
    events with set-wise folds; see setwise.py and newborn.py)."""
    log, rng = Log(), random.Random(seed)
    for host in HOSTS:
        log.add(str(host_stream(host)), ev.HostRegistered(
            host=host, hypervisor_type="QEMU", hypervisor_hostname=host, vcpus=64,
            memory_mb=65536, disk_gb=1000))
    _zones(log)
    flying: list[Iterator[None]] = []
    started, registered_again = 0, False
    while started < servers or flying:
        while started < servers and len(flying) < in_flight:
            flying.append(_lifecycle(log, started, rng, plain))
            started += 1
        for steps in list(flying):
            if next(steps, "done") == "done":
                flying.remove(steps)
        if started >= servers // 2 and not registered_again:
            registered_again, host = True, HOSTS[1]  # after claims: usage re-summed
            log.add(str(host_stream(host)), ev.HostRegistered(
                host=host, hypervisor_type="QEMU", hypervisor_hostname=host, vcpus=128,
                memory_mb=65536, disk_gb=1000, cpu_allocation_ratio=2.0))
    return log.records()
