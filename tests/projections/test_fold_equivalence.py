"""The projector's way of folding a batch (waves of set-wise statements, pipeline mode,
one transaction per batch) leaves exactly the rows that folding each event on its own
leaves, its statements run one by one and waited for, outside any pipeline.

One log exercising every instance and host fold is folded three times into scratch
schemas of a real database: one event at a time, each in its own transaction; by
``rebuild.fold_batch`` (replays, a transaction of its own per batch); by
``projector.fold_stream`` inside the caller's transaction (as ``cloud replay`` catches
the live tables up while it swaps). Every read-model table is compared row by row
after every batch. The live projector's ``catch_up`` is compared too, on a log written
to the event store. (When the folds became
set-wise, the rows of this log and of two more seeds were also compared with those the
earlier one-statement-per-event folds left: equal. When the instance-action step
statement was split by kind of step, likewise with the old general statement.)
"""

import contextlib
import uuid
from collections.abc import Iterator

import psycopg
import pytest
from eventsourcing.persistence import StoredEvent

from cloud.adapters.eventstore import EventStore
from cloud.domain import envelope as wire
from cloud.domain import events as ev
from cloud.domain.ids import host_stream
from cloud.audit_compare import compare_schemas
from cloud.projections import changes, host_usage, instance_actions, newborn, projector
from cloud.projections import rebuild, registry, setwise

from . import fold_log
from .fold_log import make_log

BATCH = 97  # not a divisor of anything in the log: lifecycles straddle batches
CHECKPOINT = BATCH
# Tables the log must fill, so that an empty comparison proves something.
FILLED = ("servers", "hosts", "host_claims", "instance_actions", "instance_action_events",
          "server_scheduler_hints", "aggregate_hosts")


@pytest.fixture
def conn(database_url):
    with psycopg.connect(database_url, autocommit=True) as conn:
        yield conn


@pytest.fixture
def records():
    return make_log()


def fold_one_by_one(conn: psycopg.Connection, schema: str, records: list) -> None:
    """The reference: each event folded on its own by every read model's statements
    (``registry.FOLDS``), executed directly; no server is folded in the client."""
    for record in records:
        fold = registry.FOLDS.get(record.envelope.event)
        if fold is None:
            continue
        with conn.transaction(), conn.cursor() as cur:
            rebuild.use_schema(conn, schema)
            token = changes.folding.set(record.position)
            try:
                fold(cur, record.envelope)
            finally:
                changes.folding.reset(token)


def batches_of(records: list, batch: int) -> list[list]:
    return [records[start:start + batch] for start in range(0, len(records), batch)]


def fold_live(conn: psycopg.Connection, schema: str, records: list) -> None:
    """``projector.fold_stream`` in the caller's transaction, pointed at ``schema``, in
    batches shorter than the checkpoints (several per call)."""
    with conn.transaction():
        rebuild.use_schema(conn, schema)
        projector.fold_stream(conn, batches_of(records, 31))


def fold_replayed(conn: psycopg.Connection, schema: str, records: list) -> None:
    for start in range(0, len(records), BATCH):
        rebuild.fold_batch(conn, schema, records[start:start + BATCH])


@contextlib.contextmanager
def two_schemas(conn: psycopg.Connection) -> Iterator[tuple[str, str]]:
    """Fresh schemas for the reference and for the batched folds, dropped after."""
    reference, folded = rebuild.scratch_name("reference"), rebuild.scratch_name("batched")
    rebuild.create_schema(conn, reference)
    rebuild.create_schema(conn, folded)
    try:
        yield reference, folded
    finally:
        rebuild.drop_schema(conn, reference)
        rebuild.drop_schema(conn, folded)


def count(conn: psycopg.Connection, schema: str, table: str) -> int:
    return conn.execute(f'SELECT count(*) FROM "{schema}"."{table}"').fetchone()[0]


def test_the_log_covers_every_instance_and_host_fold(records):
    folded = {r.envelope.event for r in records}
    wanted = {name for name in registry.FOLDS
              if name.startswith(("Instance", "Resources", "Host"))}
    assert wanted <= folded, sorted(wanted - folded)


@pytest.mark.parametrize("fold", [fold_live, fold_replayed], ids=["in-transaction", "replay"])
def test_batched_folds_leave_the_rows_of_one_by_one_folds(conn, records, fold):
    """Compared after every batch, not only at the end of the log: a read model must be
    right at each commit, and a batch's last wave is where combined events show."""
    with two_schemas(conn) as (reference, folded):
        for start in range(0, len(records), CHECKPOINT):
            part = records[start:start + CHECKPOINT]
            fold_one_by_one(conn, reference, part)
            fold(conn, folded, part)
            assert compare_schemas(conn, folded, reference) == [], f"after {start + len(part)}"
        for table in FILLED:
            assert count(conn, reference, table) > 0, table


def test_the_events_folded_in_the_client_neither_fail_nor_record_a_fallback_step():
    """newborn.py leaves out what the step statement does for those (the log above
    folds none of them in the client: they are not set-wise)."""
    for name in newborn.NAMES:
        step = instance_actions.STEPS[name]
        assert step.fallback is None and step.result == instance_actions.SUCCESS, name


def redelivered_request(records: list) -> int:
    """Where the log holds a server's request the second time."""
    requested = set()
    for index, record in enumerate(records):
        if record.envelope.event == "InstanceRequested":
            if record.envelope.id in requested:
                return index
            requested.add(record.envelope.id)
    raise AssertionError("no request appended twice")


@pytest.mark.parametrize(("batch", "long"), [(97, False), (142, False), (142, True),
                                             (5000, False)])
def test_servers_folded_in_the_client_leave_the_rows_of_one_by_one_folds(conn, batch, long):
    """A log of boots and deletes only, as most of a busy cloud's is: runs of set-wise
    events long enough that most servers are folded in the client (newborn.py), each
    row written once, in batches that cut lifecycles (97), that put a request appended
    twice in two batches (142: the servers with rows are remembered across batches,
    not read), and in one batch (5000); all of them in one call of fold_batches, as a
    replay folds them. A fold known to be long reads the servers with rows before its
    first batch, any other at its second."""
    records = make_log(plain=True)
    if batch == 142:
        requested = [{r.envelope.id for r in part if r.envelope.event == "InstanceRequested"}
                     for part in batches_of(records, batch)]
        assert any(a & b for a, b in zip(requested, requested[1:]))
    in_client = 0
    for start in range(0, len(records), batch):
        known: set[str] = set()
        for run, _ in setwise.segments(records[start:start + batch],
                                       registry.SETWISE.__contains__,
                                       registry.FOLDS.__contains__):
            servers = newborn.Newborns(run, registry.SETWISE, registry.NEWBORN, known).servers
            in_client += sum(1 for r in run if r.envelope.id in servers)
    assert in_client > len(records) // (4 if batch < len(records) else 2)
    claimed: set[str] = set()
    passing = sum(len(host_usage.Passing(run, claimed).claims)
                  for part in batches_of(records, batch)
                  for run, _ in setwise.segments(part, registry.SETWISE.__contains__,
                                                 registry.FOLDS.__contains__))
    releases = sum(1 for r in records if r.envelope.event == "ResourcesReleased")
    assert passing > (0 if batch < len(records) else releases // 2)  # host_usage.Passing
    with two_schemas(conn) as (reference, folded):
        fold_one_by_one(conn, reference, records)
        if long:  # the second of two folds, after a request the log holds again
            cut = redelivered_request(records)
            rebuild.fold_batches(conn, folded, batches_of(records[:cut], batch))
            assert count(conn, folded, "servers") > 0
        else:
            cut = 0
        assert rebuild.fold_batches(conn, folded, batches_of(records[cut:], batch),
                                    long=long) == records[-1].position
        assert compare_schemas(conn, folded, reference) == []
        for table in FILLED:
            assert count(conn, reference, table) > 0, table


def test_folding_leaves_the_transaction_planning_as_before(conn, records):
    """Folds join by nested loops only, and compile no plans (setwise.KEYED_PLANS);
    whatever the transaction does after them (verify compares tables in it) is planned
    as usual."""
    schema = rebuild.scratch_name("plans")
    rebuild.create_schema(conn, schema)
    try:
        with conn.transaction():
            conn.execute("SET LOCAL enable_mergejoin = off")
            conn.execute("SET LOCAL jit = on")
            rebuild.fold_batch(conn, schema, records[:BATCH])
            shown = conn.execute("SELECT current_setting('enable_hashjoin'),"
                                 " current_setting('enable_mergejoin'),"
                                 " current_setting('jit')").fetchone()
        assert shown == ("on", "off", "on")
    finally:
        rebuild.drop_schema(conn, schema)


def test_a_batch_that_fails_leaves_the_batches_before_it_committed_and_nothing_of_its_own(
        conn, records):
    """Batches go out without waiting for each other (rebuild.fold_batches): the one
    that fails on the server, and everything after it, must leave no row behind, the
    ones before it must be committed with their position, and the connection must be
    left outside any transaction."""
    good = batches_of(records[:2 * BATCH], BATCH)
    broken = records[2 * BATCH:3 * BATCH]
    env = broken[5].envelope
    broken[5] = type(broken[5])(position=broken[5].position, payload=b"",
                                envelope=type(env)(**{**{f: getattr(env, f) for f in
                                                         env.__struct_fields__},
                                                      "timestamp": "not a time"}))
    with two_schemas(conn) as (reference, folded):
        fold_one_by_one(conn, reference, records[:2 * BATCH])
        with pytest.raises(psycopg.errors.DataError):
            rebuild.fold_batches(conn, folded, [*good, broken, records[3 * BATCH:4 * BATCH]])
        assert conn.info.transaction_status == psycopg.pq.TransactionStatus.IDLE
        assert rebuild.position_in(conn, folded) == good[-1][-1].position
        assert compare_schemas(conn, folded, reference) == []


def test_the_live_projector_catching_up_leaves_the_rows_of_one_by_one_folds(database_url):
    """``projector.catch_up`` from the event store, in batches of 131 (all sent before
    any is waited for), into the live tables; the log is written to the store first (a
    redelivered event, which the store refuses, left out)."""
    store = EventStore(database_url, pool_size=1)
    stored = set()
    for record in make_log(plain=True):
        env = record.envelope
        if (env.id, env.version) not in stored:
            stored.add((env.id, env.version))
            store.recorder.insert_events([StoredEvent(
                originator_id=uuid.UUID(env.id), originator_version=env.version,
                topic=env.event, state=wire.encode(env))])
    with psycopg.connect(database_url, autocommit=True) as conn:
        reference = rebuild.scratch_name("reference")
        rebuild.create_schema(conn, reference)
        fold_one_by_one(conn, reference, store.read(0, 10**6))
        before = projector.tracked_position(conn)
        assert projector.catch_up(store, conn, batch=131) == store.head() > before + 131 * 3
        assert projector.tracked_position(conn) == store.head()
        assert compare_schemas(conn, rebuild.LIVE, reference) == []
        assert count(conn, rebuild.LIVE, "servers") > 0
        # The lock is the session's while it folds, and let go after: another session
        # can take it while this one is still open (this one could take it again
        # anyway).
        with psycopg.connect(database_url, autocommit=True) as other:
            assert other.execute("SELECT pg_try_advisory_xact_lock(%s)",
                                 (projector.FOLD_LOCK,)).fetchone()[0]
    store.close()



def claimed_again_then_released() -> list:
    """An instance claimed on a host, then, while that claim stands, claimed there again
    (a claim replaces the one before it) and released; and one claimed and released
    with nothing before it."""
    log = fold_log.Log()
    host = fold_log.HOSTS[0]
    stream = str(host_stream(host))
    log.add(stream, ev.HostRegistered(host=host, hypervisor_type="QEMU",
                                      hypervisor_hostname=host, vcpus=64, memory_mb=65536,
                                      disk_gb=1000))
    again, once = str(uuid.UUID(int=1)), str(uuid.UUID(int=2))
    log.add(stream, ev.ResourcesClaimed(host=host, instance_id=again, vcpus=2,
                                        memory_mb=2048, disk_gb=20))
    log.add(stream, ev.ResourcesClaimed(host=host, instance_id=again, vcpus=4,
                                        memory_mb=4096, disk_gb=40))
    log.add(stream, ev.ResourcesClaimed(host=host, instance_id=once, vcpus=1,
                                        memory_mb=512, disk_gb=1))
    log.add(stream, ev.ResourcesReleased(host=host, instance_id=again))
    log.add(stream, ev.ResourcesReleased(host=host, instance_id=once))
    return log.records()


@pytest.mark.parametrize("long", [False, True])
def test_only_claims_with_nothing_before_them_pass(conn, long):
    """A claim and its release in one run change nothing but the host's time, unless
    the instance had a claim before (remembered across batches, or read when the fold
    begins): then the release takes that one away too."""
    records = claimed_again_then_released()
    first, rest = records[:2], records[2:]
    with two_schemas(conn) as (reference, folded):
        fold_one_by_one(conn, reference, records)
        if long:  # the standing claim is in the tables when the fold begins
            rebuild.fold_batches(conn, folded, [first])
            assert rebuild.fold_batches(conn, folded, [rest], long=True) \
                == records[-1].position
        else:  # ...or was folded in the batch before
            assert rebuild.fold_batches(conn, folded, [first, rest]) == records[-1].position
        assert compare_schemas(conn, folded, reference) == []
        used = conn.execute(f'SELECT vcpus_used, running_vms FROM "{folded}".hosts')
        assert used.fetchone() == (0, 0)
    assert host_usage.Passing(rest, set()).claims == {3, 4}
    assert host_usage.Passing(rest, {str(uuid.UUID(int=1))}).claims == {4}


def passing_on_two_hosts() -> list:
    """Claims that come and go on two hosts, between claims that stay: on the first the
    last usage event is a release of a passing claim, on the second a claim that stays."""
    log = fold_log.Log()
    hosts = fold_log.HOSTS[:2]
    streams = [str(host_stream(host)) for host in hosts]
    for host, stream in zip(hosts, streams):
        log.add(stream, ev.HostRegistered(host=host, hypervisor_type="QEMU",
                                          hypervisor_hostname=host, vcpus=64,
                                          memory_mb=65536, disk_gb=1000))
    instance = iter(str(uuid.UUID(int=n)) for n in range(1, 100))
    first, second, stays = next(instance), next(instance), next(instance)
    a, b = (hosts[0], streams[0]), (hosts[1], streams[1])

    def claim(at: tuple[str, str], who: str) -> None:
        log.add(at[1], ev.ResourcesClaimed(host=at[0], instance_id=who, vcpus=1,
                                           memory_mb=512, disk_gb=1))

    def release(at: tuple[str, str], who: str) -> None:
        log.add(at[1], ev.ResourcesReleased(host=at[0], instance_id=who))
    claim(a, first), claim(a, second), release(a, first), claim(a, stays)
    release(a, second)
    one, two, three = next(instance), next(instance), next(instance)
    claim(b, one), release(b, one), claim(b, two), release(b, two), claim(b, three)
    return log.records()


def test_of_a_hosts_passing_releases_only_the_last_touches_it(conn):
    """Their host's time is that of its last usage event either way; the earlier
    releases of passing claims are not folded at all."""
    records = passing_on_two_hosts()
    passing = host_usage.Passing(records, set())
    position = {(r.envelope.event, r.envelope.data.instance_id): r.position
                for r in records if r.envelope.event != "HostRegistered"}
    released = [position["ResourcesReleased", str(uuid.UUID(int=n))] for n in (1, 2, 4, 5)]
    assert passing.quiet == {released[0], released[2]}
    assert passing.releases == {released[1], released[3]}
    with two_schemas(conn) as (reference, folded):
        fold_one_by_one(conn, reference, records)
        rebuild.fold_batches(conn, folded, [records[:2], records[2:]])
        assert compare_schemas(conn, folded, reference) == []
        hosts = conn.execute(f'SELECT name, updated_at, running_vms FROM "{folded}".hosts'
                             " ORDER BY name").fetchall()
    stamps = [records[released[1] - 1].envelope.timestamp, records[-1].envelope.timestamp]
    assert [(name, at.isoformat(), vms) for name, at, vms in hosts] == [
        (host, stamp, 1) for host, stamp in zip(fold_log.HOSTS[:2], stamps)]
