"""`cloud replay` rebuilds the read models and swaps them in while the API serves."""

import os
import subprocess
import sys
import threading
from pathlib import Path

import psycopg
import pytest
from litestar.testing import TestClient
from psycopg import sql

from cloud.adapters.eventstore import EventStore
from cloud.audit_compare import compare_read_models
from cloud.http.app import create_app
from cloud.projections import projector
from cloud.projections.queries import ReadModels
from cloud.projections.rebuild import scratch_name
from cloud.replay import drop_retired

from .history import make_history

REPO = Path(__file__).resolve().parents[2]
API = "/compute/v2.1"
PAGES = (f"{API}/servers/detail?all_tenants=1", f"{API}/flavors/detail",
         f"{API}/servers/detail?all_tenants=1&deleted=true")


def replay(database_url: str, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "cloud.cli", "--database-url", database_url,
                           "replay", *args], cwd=REPO, capture_output=True, text=True,
                          env=dict(os.environ), timeout=120)


@pytest.fixture
def client(database_url):
    make_history(database_url)
    read_models = ReadModels(database_url)
    app = create_app(store=EventStore(database_url), read_models=read_models)
    with projector.in_background(database_url), TestClient(app) as client:
        yield client
    read_models.close()


def snapshot(client) -> list:
    return [client.get(page).json() for page in PAGES]


def test_replay_while_the_api_serves_changes_nothing_it_shows(client, database_url):
    before = snapshot(client)
    statuses, stop = [], threading.Event()

    def keep_reading() -> None:
        while not stop.is_set():
            statuses.extend(client.get(page).status_code for page in PAGES)

    reader = threading.Thread(target=keep_reading)
    reader.start()
    try:
        result = replay(database_url)
    finally:
        stop.set()
        reader.join(timeout=30)
    assert result.returncode == 0, result.stderr
    assert "events/s" in result.stderr and "ETA" in result.stderr
    assert "swapped in" in result.stderr
    assert statuses and set(statuses) == {200}
    assert snapshot(client) == before

    # The projector carries on into the swapped-in tables.
    body = {"server": {"name": "after-replay", "imageRef": before[0]["servers"][0]["image"]
                       ["id"], "flavorRef": "1"}}
    assert client.post(f"{API}/servers", json=body).status_code == 202
    names = [s["name"] for s in client.get(PAGES[0]).json()["servers"]]
    assert "after-replay" in names
    store = EventStore(database_url)
    assert compare_read_models(database_url, store)[1] == []
    store.close()


def test_replay_of_one_projection_and_unknown_names(client, database_url):
    before = snapshot(client)
    result = replay(database_url, "--projection", "servers", "--projection", "hosts")
    assert result.returncode == 0, result.stderr
    assert "rebuilt servers, hosts up to position" in result.stderr
    assert snapshot(client) == before
    result = replay(database_url, "--projection", "nope")
    assert result.returncode != 0 and "unknown projection(s) nope" in result.stderr


def retired_schema(conn, tables: int) -> str:
    name = scratch_name("retired")
    conn.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(name)))
    for number in range(tables):
        conn.execute(sql.SQL("CREATE TABLE {} (id int)").format(
            sql.Identifier(name, f"t{number}")))
    return name


def schema_exists(conn, name: str) -> bool:
    return conn.execute("SELECT count(*) FROM pg_namespace WHERE nspname = %s",
                        (name,)).fetchone()[0] == 1


def test_dropping_the_old_tables_gives_way_to_a_reader_still_on_them(database_url):
    # A query that waited on the live tables during a swap reads the retired ones once it
    # commits. The drop must neither wait for it for ever nor deadlock with it: while the
    # reader holds the last table, the drop (which locks them in order) holds others the
    # reader goes on to read.
    with psycopg.connect(database_url, autocommit=True) as conn, \
            psycopg.connect(database_url) as reader:
        conn.execute("SET statement_timeout = '20s'")  # a drop that waits for ever fails
        retired = retired_schema(conn, tables=8)
        reader.execute(sql.SQL("SELECT * FROM {}").format(sql.Identifier(retired, "t7")))
        assert drop_retired(conn, retired, attempts=2) is False
        assert schema_exists(conn, retired)

        outcome = []
        dropping = threading.Thread(
            target=lambda: outcome.append(drop_retired(conn, retired, attempts=40)))
        dropping.start()
        for number in range(7):
            reader.execute(sql.SQL("SELECT * FROM {}").format(
                sql.Identifier(retired, f"t{number}")))
        reader.commit()
        dropping.join(timeout=60)
        assert outcome == [True]
        assert not schema_exists(conn, retired)
