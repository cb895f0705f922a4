"""Folds keep the cyclic garbage collector off while they run, and only then."""

import gc
import threading

import psycopg

from cloud.projections import projector, rebuild

from .fold_log import make_log
from .test_fold_equivalence import batches_of


def test_a_fold_runs_with_the_collector_off_and_leaves_it_as_it_found_it(database_url):
    records = make_log()
    during: list[bool] = []
    with psycopg.connect(database_url, autocommit=True) as conn:
        for enabled in (True, False):
            (gc.enable if enabled else gc.disable)()
            schema = rebuild.scratch_name("collector")
            rebuild.create_schema(conn, schema)
            try:
                rebuild.fold_batches(conn, schema, batches_of(records, 50),
                                     progress=lambda _: during.append(gc.isenabled()))
            finally:
                rebuild.drop_schema(conn, schema)
            assert gc.isenabled() is enabled
    gc.enable()
    assert during and not any(during)


def test_overlapping_folds_turn_it_back_on_when_the_last_one_ends():
    paused = projector._Collector().paused
    first_in, second_in, first_out = threading.Event(), threading.Event(), threading.Event()
    seen = {}

    def second() -> None:
        first_in.wait()
        with paused():
            second_in.set()
            first_out.wait()
            seen["after the first ended"] = gc.isenabled()
        seen["after both"] = gc.isenabled()

    gc.enable()
    other = threading.Thread(target=second)
    other.start()
    with paused():
        first_in.set()
        second_in.wait()
    first_out.set()
    other.join(timeout=10)
    assert seen == {"after the first ended": False, "after both": True}
