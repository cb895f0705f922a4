"""`cloud audit verify` on a real history: passes, then catches a corrupted read-model
row and a message deleted from JetStream, naming each."""

import asyncio
import subprocess
import sys
import time
from pathlib import Path

import psycopg
import pytest

from cloud.adapters import bus
from cloud.adapters.eventstore import EventStore

from .history import make_history

REPO = Path(__file__).resolve().parents[2]


def verify(database_url: str, *args: str, env: dict[str, str] | None = None):
    import os
    return subprocess.run([sys.executable, "-m", "cloud.cli", "--database-url", database_url,
                           "audit", "verify", *args], cwd=REPO, capture_output=True,
                          text=True, env={**os.environ, **(env or {})}, timeout=120)


async def stream_messages(nats_server) -> int:
    nc = await nats_server.connect()
    info = await nc.jetstream().stream_info(bus.EVENTS_STREAM)
    await nc.close()
    return info.state.messages


async def delete_message(nats_server, seq: int) -> None:
    nc = await nats_server.connect()
    await nc.jetstream().delete_msg(bus.EVENTS_STREAM, seq)
    await nc.close()


@pytest.fixture
def published(database_url, nats_server, processes):
    """A real history, relayed to JetStream by a real relay process."""
    ids = make_history(database_url)
    store = EventStore(database_url)
    head = store.head()
    count = len(store.read(0, 100_000))
    store.close()
    processes.start("relay", "relay", env={"CLOUD_DATABASE_URL": database_url,
                                            **nats_server.env("relay")})
    deadline = time.monotonic() + 60
    while asyncio.run(stream_messages(nats_server)) < count:
        assert time.monotonic() < deadline, processes.log("relay")
        time.sleep(0.1)
    return ids, head, count


def test_verify_passes_on_a_real_history(database_url, nats_server, published):
    _, head, count = published
    result = verify(database_url, env=nats_server.env("auditor"))
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"ok    log integrity: {count} events" in result.stdout
    assert f"equal to a fresh replay up to position {head}" in result.stdout
    assert "ok    JetStream CLOUD_EVENTS" in result.stdout


def test_verify_names_a_corrupted_read_model_row(database_url, nats_server, published):
    ids, _, _ = published
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute("UPDATE servers SET vm_state = 'active', host = 'h9' WHERE id = %s",
                     (ids["web2"],))
    result = verify(database_url, "--skip-nats")
    assert result.returncode == 1
    assert f"servers [id={ids['web2']}]: " in result.stdout
    assert 'vm_state: live "active" ≠ replayed "deleted"' in result.stdout
    assert 'host: live "h9"' in result.stdout
    assert "skip  JetStream" in result.stdout


def test_verify_names_a_row_missing_from_the_live_tables(database_url, published):
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute("DELETE FROM hosts WHERE name = 'h2'")
    result = verify(database_url, "--skip-nats")
    assert result.returncode == 1
    assert "hosts [name=h2]: missing from the live table (replay has it)" in result.stdout


def test_verify_names_the_position_of_a_deleted_jetstream_message(
        database_url, nats_server, published):
    _, _, count = published
    store = EventStore(database_url)
    tenth = store.read(0, 10)[-1].position
    store.close()
    asyncio.run(delete_message(nats_server, 10))
    result = verify(database_url, "--nats-wait", "0.5", env=nats_server.env("auditor"))
    assert result.returncode == 1, result.stdout
    assert "ok    read models" in result.stdout
    assert f"position {tenth}: missing from JetStream" in result.stdout
    assert f"JetStream holds {count - 1} events, the log {count}" in result.stdout
