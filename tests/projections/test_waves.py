"""How a batch is cut into waves of events that may be folded together (setwise.waves)."""

import uuid

from cloud.adapters.eventstore import Recorded
from cloud.domain import events as ev
from cloud.domain.envelope import Actor, Envelope
from cloud.domain.flavor import DEFAULT_FLAVORS
from cloud.domain.ids import host_stream
from cloud.projections import registry, setwise
from cloud.projections.newborn import Newborns
from cloud.projections.setwise import Access, SetFold


def record(position: int, name: str, stream: str, **touched: str) -> Recorded:
    env = Envelope(event=name, aggregate="test", id=stream, key=stream, version=position,
                   timestamp="2024-01-01T00:00:00+00:00", request_id=None,
                   actor=Actor(agent="test"), data=touched)  # type: ignore[arg-type]
    return Recorded(position=position, envelope=env, payload=b"")


def _ignored(cur, events) -> None:
    raise AssertionError("planning runs no fold")


# A server event touches its server; a usage event its (host, server) claim exclusively
# and its host's sums combinably.
SETWISE = {
    "Server": SetFold(_ignored, lambda env: [Access(("server", env.id))]),
    "Usage": SetFold(_ignored, lambda env: [Access(("claim", env.data["host"], env.id)),
                                            Access(("usage", env.data["host"]), "usage")]),
    "Other": SetFold(_ignored, lambda env: [Access(("usage", env.data["host"]), "other")]),
}


def plan(records: list[Recorded], one_by_one=("Barrier",)) -> list[list[int] | int]:
    """Waves as lists of positions; an event folded alone as its bare position."""
    planned: list[list[int] | int] = []
    for run, alone in setwise.segments(records, SETWISE.__contains__,
                                       lambda name: name in SETWISE or name in one_by_one):
        planned += [[r.position for r in wave]
                    for wave in setwise.waves(run, lambda r: SETWISE.get(r.envelope.event))]
        if alone is not None:
            planned.append(alone.position)
    return planned


def test_events_of_different_servers_share_a_wave_and_one_servers_keep_their_order():
    log = [record(1, "Server", "a"), record(2, "Server", "b"), record(3, "Server", "a"),
           record(4, "Server", "c"), record(5, "Server", "a"), record(6, "Server", "b")]
    assert plan(log) == [[1, 2, 4], [3, 6], [5]]


def test_a_combinable_access_shares_a_wave_but_never_goes_back_before_an_earlier_one():
    log = [record(1, "Usage", "a", host="h"), record(2, "Usage", "b", host="h"),
           record(3, "Usage", "a", host="h"),  # a's second claim: after its first
           record(4, "Usage", "c", host="h")]  # may not go before 3, which it follows
    assert plan(log) == [[1, 2], [3, 4]]


def test_different_tags_on_one_key_do_not_mix():
    log = [record(1, "Usage", "a", host="h"), record(2, "Other", "x", host="h"),
           record(3, "Usage", "b", host="h"), record(4, "Usage", "c", host="g")]
    assert plan(log) == [[1, 4], [2], [3]]


def test_an_event_without_a_set_wise_fold_is_a_barrier_and_one_with_no_fold_is_skipped():
    log = [record(1, "Server", "a"), record(2, "Server", "a"), record(3, "Barrier", "z"),
           record(4, "Server", "a"), record(5, "Unknown", "a"), record(6, "Server", "b")]
    assert plan(log) == [[1], [2], 3, [4, 6]]


def test_a_servers_life_in_the_registry_folds_in_a_few_waves():
    """The real folds: 50 servers requested, claimed, scheduled and spawned on two hosts,
    interleaved, take as many waves as one server has events (three: the claims, on the
    hosts' streams, go with the requests), not one per event."""
    log = _fifty_servers_booting()
    waves = list(setwise.waves(log, lambda r: registry.SETWISE.get(r.envelope.event)))
    assert [len(wave) for wave in waves] == [100, 50, 50]


def _fifty_servers_booting() -> list[Recorded]:
    log, position = [], 0
    servers = [str(uuid.UUID(int=n + 1)) for n in range(50)]
    for step in range(4):
        for n, server in enumerate(servers):
            host = f"h{n % 2}"
            position += 1
            event = [ev.InstanceRequested(name="s", project_id="p", user_id="u",
                                          flavor=DEFAULT_FLAVORS[0], image_ref="i",
                                          scheduler_hints={"group": "g"} if n % 2 else {}),
                     ev.ResourcesClaimed(host=host, instance_id=server, vcpus=1,
                                         memory_mb=1, disk_gb=1),
                     ev.InstanceScheduled(host=host, node=host, name="s",
                                          flavor=DEFAULT_FLAVORS[0], image_ref="i"),
                     ev.InstanceSpawned(host=host, power_state=1)][step]
            stream = str(host_stream(host)) if step == 1 else server
            env = Envelope(event=ev.event_name(event), aggregate=event.aggregate,
                           id=stream, key=stream, version=step + 1,
                           timestamp="2024-01-01T00:00:00+00:00", request_id=None,
                           actor=Actor(agent="test"), data=event)
            log.append(Recorded(position=position, envelope=env, payload=b""))
    return log


def test_servers_requested_in_the_run_leave_only_their_other_folds_to_the_waves():
    """Folded in the client (newborn.py), the same servers leave the waves their hints
    (the requests of the half that gave any), their hosts' claims and failed builds:
    one wave."""
    log = _fifty_servers_booting()
    newborns = Newborns(log, registry.SETWISE, registry.NEWBORN)
    assert len(newborns.servers) == 50
    [wave] = setwise.waves(log, newborns.fold_of)
    assert len(wave) == 125
    requests = [r.envelope for r in wave if r.envelope.event == "InstanceRequested"]
    assert len(requests) == 25 and all(env.data.scheduler_hints for env in requests)
