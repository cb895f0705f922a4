"""The projector's way of folding a batch (pipeline mode, one transaction per batch)
leaves exactly the rows the same folds leave when each event's statements run one by one
and are waited for, outside any pipeline.

One log exercising every instance and host fold is folded three times into scratch
schemas of a real database: one event at a time, each in its own transaction; by
``rebuild.fold_batch`` (replays); by ``projector.apply`` (the live projector). Every
read-model table is then compared row by row. (When the instance-action step statement
was split into one statement per kind of step, this test ran with the old general
statement as the one-by-one side and found the rows equal.)
"""

import psycopg
import pytest

from cloud.audit_compare import compare_schemas
from cloud.projections import projector, rebuild, registry

from .fold_log import make_log

BATCH = 97  # not a divisor of anything in the log: lifecycles straddle batches
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
    """The reference: each event folded on its own, its statements executed directly."""
    for record in records:
        with conn.transaction(), conn.cursor() as cur:
            rebuild.use_schema(conn, schema)
            projector.fold_records(cur, [record])


def fold_live(conn: psycopg.Connection, schema: str, records: list) -> None:
    """``projector.apply`` batch by batch, pointed at ``schema``."""
    for start in range(0, len(records), BATCH):
        with conn.transaction():
            rebuild.use_schema(conn, schema)
            projector.apply(conn, records[start:start + BATCH])


def fold_replayed(conn: psycopg.Connection, schema: str, records: list) -> None:
    for start in range(0, len(records), BATCH):
        rebuild.fold_batch(conn, schema, records[start:start + BATCH])


def count(conn: psycopg.Connection, schema: str, table: str) -> int:
    return conn.execute(f'SELECT count(*) FROM "{schema}"."{table}"').fetchone()[0]


def test_the_log_covers_every_instance_and_host_fold(records):
    folded = {r.envelope.event for r in records}
    wanted = {name for name in registry.FOLDS
              if name.startswith(("Instance", "Resources", "Host"))}
    assert wanted <= folded, sorted(wanted - folded)


@pytest.mark.parametrize("fold", [fold_live, fold_replayed], ids=["projector", "replay"])
def test_batched_folds_leave_the_rows_of_one_by_one_folds(conn, records, fold):
    reference, folded = rebuild.scratch_name("reference"), rebuild.scratch_name("batched")
    rebuild.create_schema(conn, reference)
    rebuild.create_schema(conn, folded)
    try:
        fold_one_by_one(conn, reference, records)
        fold(conn, folded, records)
        for table in FILLED:
            assert count(conn, reference, table) > 0, table
        assert compare_schemas(conn, folded, reference) == []
    finally:
        rebuild.drop_schema(conn, reference)
        rebuild.drop_schema(conn, folded)
