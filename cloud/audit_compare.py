"""Do the live read models equal a fresh replay of the log? Row by row, table by table.

The replay goes into a scratch schema up to the live tables' tracking position, and the
comparison runs in one REPEATABLE READ snapshot in which the replay is first brought up
to the position that snapshot shows, so a projector running meanwhile changes nothing.
"""

import json
from typing import Any

import psycopg
from psycopg import sql

from cloud.adapters.eventstore import EventStore
from cloud.projections import rebuild
from cloud.projections.projector import tracked_position

SHOWN_PER_TABLE = 20


def compare_read_models(database_url: str, store: EventStore) -> tuple[int, list[str]]:
    """Replay into a scratch schema and compare; returns (position, differences)."""
    schema = rebuild.scratch_name("verify")
    with psycopg.connect(database_url, autocommit=True) as conn:
        rebuild.create_schema(conn, schema)
        try:
            rebuild.fold_into(store, conn, schema, until=tracked_position(conn))
            with conn.transaction():
                conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
                position = tracked_position(conn)
                rebuild.fold_into(store, conn, schema, until=position)
                return position, compare_schemas(conn, rebuild.LIVE, schema)
        finally:
            rebuild.drop_schema(conn, schema)


def compare_schemas(conn: psycopg.Connection, live: str, replayed: str) -> list[str]:
    """Every difference between the projected tables of two schemas."""
    differences = []
    for table in rebuild.projected_tables(conn, replayed):
        if not _columns(conn, live, table):
            differences.append(f"{table}: table missing from the live read models")
            continue
        differences += compare_table(conn, live, replayed, table)
    return differences


def _columns(conn: psycopg.Connection, schema: str, table: str) -> dict[str, str]:
    rows = conn.execute("SELECT column_name, data_type FROM information_schema.columns"
                        " WHERE table_schema = %s AND table_name = %s", (schema, table))
    return dict(rows.fetchall())


def compare_table(conn: psycopg.Connection, live: str, replayed: str,
                  table: str) -> list[str]:
    """Differences in one table: columns first, then rows matched by primary key."""
    want, have = _columns(conn, replayed, table), _columns(conn, live, table)
    if want != have:
        return [f"{table}: columns differ: live {sorted(have.items())}"
                f" ≠ replayed {sorted(want.items())}"]
    key = rebuild.primary_key(conn, replayed, table)
    pairs = _row_pairs(conn, live, replayed, table, key)
    lines = [_describe(table, key, old, new) for old, new in pairs[:SHOWN_PER_TABLE]]
    if len(pairs) > SHOWN_PER_TABLE:
        lines.append(f"{table}: … and {len(pairs) - SHOWN_PER_TABLE} more rows differ")
    return lines


def _row_pairs(conn: psycopg.Connection, live: str, replayed: str, table: str,
               key: list[str]) -> list[tuple[Any, Any]]:
    """(live row, replayed row) pairs that differ; None where a side has no such row."""
    names = {"l": sql.Identifier(live, table), "r": sql.Identifier(replayed, table)}
    if not key:  # no key to pair rows by: compare as multisets
        query = sql.SQL(
            "(SELECT to_jsonb(l), NULL::jsonb FROM {l} l EXCEPT ALL"
            " SELECT to_jsonb(r), NULL FROM {r} r) UNION ALL"
            " (SELECT NULL, to_jsonb(r) FROM {r} r EXCEPT ALL"
            " SELECT NULL, to_jsonb(l) FROM {l} l) LIMIT 1000").format(**names)
        return conn.execute(query).fetchall()
    join = sql.SQL(" AND ").join(
        sql.SQL("l.{k} = r.{k}").format(k=sql.Identifier(k)) for k in key)
    query = sql.SQL(
        "SELECT to_jsonb(l), to_jsonb(r) FROM {l} l FULL JOIN {r} r ON {join}"
        " WHERE to_jsonb(l) IS DISTINCT FROM to_jsonb(r) LIMIT 1000").format(join=join, **names)
    return conn.execute(query).fetchall()


def _describe(table: str, key: list[str], live: dict | None, replayed: dict | None) -> str:
    row = live if live is not None else replayed
    where = ", ".join(f"{k}={row[k]}" for k in key) or json.dumps(row, default=str)
    if live is None:
        return f"{table} [{where}]: missing from the live table (replay has it)"
    if replayed is None:
        return f"{table} [{where}]: in the live table but not in the replay"
    changed = [f"{column}: live {json.dumps(live.get(column))}"
               f" ≠ replayed {json.dumps(replayed.get(column))}"
               for column in replayed if live.get(column) != replayed.get(column)]
    return f"{table} [{where}]: " + "; ".join(changed)
