"""How fast the log replays: raw store reads vs the projector's full fold.

    python bench/replay.py [-n 1000000] [--as-of] [--server postgresql://…/postgres]

Creates a fresh database with the cloud's schema, bulk-loads N events (COPY) shaped as
real instance lifecycles on 20 hosts (request, claim, schedule, spawn, and for four in
five servers delete-request, delete, release; interleaved across 500 servers in flight,
versions contiguous per aggregate), then times (1) reading the whole log through
EventStore.read (decoding every envelope), (2) the projector folding it from position
0 into the read models (``catch_up``, the live projector's batches) and (3) folding it
into a fresh schema as ``cloud replay`` does (``rebuild.fold_into``). Prints one JSON
line; drops the database unless --keep.
"""

import argparse
import json
import time
import uuid
from collections.abc import Iterator

import psycopg

from cloud import audit_snapshots as snapshots
from cloud.adapters.eventstore import EVENTS_TABLE, EventStore
from cloud.audit_as_of import cloud_at
from cloud.domain import envelope as wire
from cloud.domain import events as ev
from cloud.domain import instance
from cloud.domain.envelope import Actor, Envelope
from cloud.domain.flavor import DEFAULT_FLAVORS
from cloud.domain.ids import host_stream
from cloud.manage import db_sync
from cloud.projections import projector, rebuild

HOSTS = [f"bench-host-{n:02d}" for n in range(20)]
IN_FLIGHT = 500
USER, AGENT = Actor(user_id="bench", project_id="bench"), Actor(agent="bench")


class Log:
    """Envelopes in log order, with each aggregate's next version."""

    def __init__(self) -> None:
        self.versions: dict[uuid.UUID, int] = {}
        self.clock = 1_700_000_000.0

    def row(self, stream: uuid.UUID, key: str, event: ev.Event, actor: Actor) -> tuple:
        version = self.versions[stream] = self.versions.get(stream, 0) + 1
        self.clock += 0.001
        stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(self.clock))
        env = Envelope(event=ev.event_name(event), aggregate=event.aggregate, id=str(stream),
                       key=key, version=version, timestamp=f"{stamp}+00:00",
                       request_id=None, actor=actor, data=event)
        return stream, version, env.event, wire.encode(env)


def lifecycle(log: Log, n: int) -> Iterator[list[tuple]]:
    """Each server's events, one step per yield (so servers interleave)."""
    server = uuid.UUID(int=n + 1)
    sid, host = str(server), HOSTS[n % len(HOSTS)]
    flavor = DEFAULT_FLAVORS[n % len(DEFAULT_FLAVORS)]
    events = instance.request(sid, name=f"vm-{n}", project_id="bench", user_id="bench",
                              flavor=flavor, image_ref="img")
    state = instance.evolve(None, sid, events[0])
    yield [log.row(server, sid, events[0], USER)]
    claim = ev.ResourcesClaimed(host=host, instance_id=sid, vcpus=flavor.vcpus,
                                memory_mb=flavor.ram, disk_gb=flavor.disk)
    yield [log.row(host_stream(host), host, claim, AGENT)]
    for decide in (lambda s: instance.schedule(s, host=host, node=host),
                   lambda s: instance.spawned(s, host=host, power_state=1)):
        for event in decide(state):
            state = instance.evolve(state, sid, event)
            yield [log.row(server, sid, event, AGENT)]
    if n % 5 == 4:
        return  # one in five stays running
    for decide in (instance.request_delete, lambda s: instance.deleted(s, host=host)):
        for event in decide(state):
            state = instance.evolve(state, sid, event)
            yield [log.row(server, sid, event, USER)]
    release = ev.ResourcesReleased(host=host, instance_id=sid)
    yield [log.row(host_stream(host), host, release, AGENT)]


def generate(total: int) -> Iterator[tuple]:
    """About ``total`` events: hosts first, then interleaved server lifecycles."""
    log, made, n = Log(), 0, 0
    for host in HOSTS:
        made += 1
        yield log.row(host_stream(host), host, ev.HostRegistered(
            host=host, hypervisor_type="QEMU", hypervisor_hostname=host, vcpus=10_000,
            memory_mb=10_000_000, disk_gb=1_000_000), AGENT)
    flying: list[Iterator[list[tuple]]] = []
    while made < total or flying:
        while made < total and len(flying) < IN_FLIGHT:
            flying.append(lifecycle(log, n))
            n += 1
        for steps in list(flying):
            rows = next(steps, None)
            if rows is None:
                flying.remove(steps)
                continue
            made += len(rows)
            yield from rows


def load(url: str, total: int) -> tuple[int, float]:
    started = time.perf_counter()
    count = 0
    with psycopg.connect(url) as conn, conn.cursor() as cur:
        with cur.copy(f"COPY {EVENTS_TABLE} (originator_id, originator_version, topic, state)"
                      " FROM STDIN") as copy:
            for row in generate(total):
                copy.write_row(row)
                count += 1
    return count, time.perf_counter() - started


def read_all(url: str) -> tuple[int, float]:
    store = EventStore(url, pool_size=1)
    started, position, count = time.perf_counter(), 0, 0
    while records := store.read(position, projector.BATCH):
        count += len(records)
        position = records[-1].position
    store.close()
    return count, time.perf_counter() - started


def project_all(url: str) -> float:
    store = EventStore(url, pool_size=1)
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("DELETE FROM projection_tracking")
        for table in rebuild.read_model_tables(conn):
            conn.execute(f'TRUNCATE "{table}"')
        started = time.perf_counter()
        projector.catch_up(store, conn)
        seconds = time.perf_counter() - started
    store.close()
    return seconds


def replay_all(url: str) -> float:
    """Seconds to fold the whole log into a fresh schema, as ``cloud replay`` does."""
    store = EventStore(url, pool_size=1)
    with psycopg.connect(url, autocommit=True) as conn:
        schema = rebuild.scratch_name("bench")
        rebuild.create_schema(conn, schema)
        started = time.perf_counter()
        rebuild.fold_into(store, conn, schema)
        seconds = time.perf_counter() - started
        rebuild.drop_schema(conn, schema)
    store.close()
    return seconds


def as_of_times(url: str) -> dict:
    """Seconds for the whole cloud at the head of the log: replayed from the start, then
    from a snapshot taken 10,000 events before the head."""
    store = EventStore(url, pool_size=1)
    head = store.head()
    store.close()
    started = time.perf_counter()
    cloud_at(url, head, keep_after=10**12)
    from_start = time.perf_counter() - started
    snapshots.take(url, head - 10_000)
    started = time.perf_counter()
    summary = cloud_at(url, head, keep_after=10**12)
    return {"as_of_head_from_start_s": round(from_start, 1),
            "as_of_head_from_snapshot_s": round(time.perf_counter() - started, 1),
            "as_of_events_folded_from_snapshot": summary["replayed"]["events_folded"]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=1_000_000)
    parser.add_argument("--server", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--keep", action="store_true")
    parser.add_argument("--as-of", action="store_true",
                        help="also time `audit as-of HEAD cloud` without and with a"
                             " snapshot 10,000 events before the head")
    args = parser.parse_args()
    name = f"cloud_bench_replay_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(args.server, autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    url = args.server.rsplit("/", 1)[0] + f"/{name}"
    try:
        db_sync(url)
        loaded, load_s = load(url, args.n)
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(f"VACUUM ANALYZE {EVENTS_TABLE}")
        events, read_s = read_all(url)
        project_s = project_all(url)
        replay_s = replay_all(url)
        extra = as_of_times(url) if args.as_of else {}
        print(json.dumps({"events": events, "loaded": loaded, **extra,
                          "load_events_per_s": round(loaded / load_s),
                          "store_read_events_per_s": round(events / read_s),
                          "projector_events_per_s": round(events / project_s),
                          "replay_events_per_s": round(events / replay_s),
                          "store_read_s": round(read_s, 1),
                          "projector_s": round(project_s, 1),
                          "replay_s": round(replay_s, 1)}))
    finally:
        if not args.keep:
            with psycopg.connect(args.server, autocommit=True) as conn:
                conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


if __name__ == "__main__":
    main()
