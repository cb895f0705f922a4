"""Start real postgres and nats-server processes and talk to them."""

import asyncio

import nats
import psycopg

from cloud.adapters.embedded import EmbeddedNats, EmbeddedPostgres, port_is_open


def test_postgres_runs_and_keeps_data_across_restarts(tmp_path):
    data_dir = tmp_path / "pg" / "data"
    with EmbeddedPostgres(data_dir) as pg:
        first_url = pg.url
        with psycopg.connect(first_url) as conn:
            assert conn.execute("select 1").fetchone() == (1,)
            conn.execute("create table kept (id int)")
            conn.execute("insert into kept values (42)")
    assert not port_is_open("127.0.0.1", pg.port)

    # A fresh object on the same directory must find the same port and data.
    with EmbeddedPostgres(data_dir) as pg:
        assert pg.url == first_url
        with psycopg.connect(pg.url) as conn:
            assert conn.execute("select id from kept").fetchall() == [(42,)]


def test_nats_with_env_password_and_jetstream(tmp_path):
    config = tmp_path / "nats.conf"
    config.write_text(
        "jetstream { }\n"
        "authorization { users = [ {user: a, password: $TEST_PW} ] }\n")

    async def use_jetstream(url: str) -> str:
        nc = await nats.connect(url, user="a", password="secret")
        try:
            info = await nc.jetstream().add_stream(name="events", subjects=["ev.>"])
            return info.config.name
        finally:
            await nc.close()

    with EmbeddedNats(config, tmp_path / "nats" / "store", env={"TEST_PW": "secret"}) as server:
        assert server.url.startswith("nats://127.0.0.1:")
        assert server.port != 4222
        assert asyncio.run(use_jetstream(server.url)) == "events"
    assert not port_is_open("127.0.0.1", server.port)
