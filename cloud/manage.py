"""``cloud manage``: create the schema, the streams and the bootstrap data (idempotent)."""

import psycopg

from cloud.adapters import bus
from cloud.adapters.eventstore import EventStore
from cloud.projections import projector
from cloud.projections import registry
from cloud.services import catalog
from cloud.util import utcnow


def db_sync(database_url: str) -> None:
    """Event table, read-model tables, default flavors and image; then fold the log once."""
    store = EventStore(database_url, pool_size=1)
    try:
        store.create_tables()
        with psycopg.connect(database_url, autocommit=True) as conn:
            for ddl in registry.DDL:
                if ddl.strip():
                    conn.execute(ddl)
        catalog.bootstrap(store, timestamp=utcnow())
        with psycopg.connect(database_url, autocommit=True) as conn:
            projector.catch_up(store, conn)
    finally:
        store.close()


async def streams_sync(nats_url: str, *, user: str | None, password: str | None) -> None:
    """Create or update the JetStream streams and shared consumers."""
    nc = await bus.connect(nats_url, user=user, password=password, name="cloud-manage")
    try:
        await bus.ensure_streams(nc.jetstream())
    finally:
        await nc.close()
