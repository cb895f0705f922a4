"""``cloud manage``: create the schema, the streams and the bootstrap data (idempotent)."""

from collections.abc import Mapping

import psycopg
from psycopg.rows import dict_row
from psycopg_pool import ConnectionPool

from cloud.adapters import bus, credentials, tokens
from cloud.adapters.eventstore import EventStore
from cloud.projections import projector
from cloud.projections import registry
from cloud.services import catalog, identity_bootstrap
from cloud.util import utcnow


# Not projections: secrets and token keys are state, never rebuilt from the log.
SECRET_DDL = [credentials.DDL, tokens.DDL]


def db_sync(database_url: str, *, passwords: Mapping[str, str] | None = None) -> None:
    """Event table, read-model tables, default flavors and image, the identity bootstrap
    (with ``passwords`` by user name, when given); then fold the log once."""
    store = EventStore(database_url, pool_size=1)
    try:
        store.create_tables()
        with psycopg.connect(database_url, autocommit=True) as conn:
            for ddl in [*registry.DDL, *SECRET_DDL]:
                if ddl.strip():
                    conn.execute(ddl)
            tokens.ensure_key(conn)
        catalog.bootstrap(store, timestamp=utcnow())
        with identity_pool(database_url) as pool:
            identity_bootstrap.bootstrap(store, credentials.Credentials(pool),
                                         timestamp=utcnow(), passwords=passwords)
        with psycopg.connect(database_url, autocommit=True) as conn:
            projector.catch_up(store, conn)
    finally:
        store.close()


def identity_pool(database_url: str) -> ConnectionPool:
    """A one-connection pool for the identity commands (rows as dicts, autocommit)."""
    return ConnectionPool(database_url, min_size=1, max_size=1, open=True,
                          kwargs={"row_factory": dict_row, "autocommit": True})


async def streams_sync(nats_url: str, *, user: str | None, password: str | None) -> None:
    """Create or update the JetStream streams and shared consumers."""
    nc = await bus.connect(nats_url, user=user, password=password, name="cloud-manage")
    try:
        await bus.ensure_streams(nc.jetstream())
    finally:
        await nc.close()
