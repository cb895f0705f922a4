"""Columns of an ``unnest`` go to the server as array literals (setwise.Column): every
value comes back as it was sent, whichever way its literal was written."""

import uuid

import psycopg
import pytest

from cloud.projections.folds import text_array
from cloud.projections.setwise import Column, _ColumnDumper

AWKWARD = ["plain", "", "NULL", "null", None, 'say "hi"', "back\\slash", "line\nbreak",
           "tab\there", "\x01", "{braces}", "[brackets]", "a,b", " padded ", "ünïcødé ☃",
           '{"vcpus": 1, "extra_specs": {"k": "v"}}', "\\n", "\u2028"]


def sent(conn: psycopg.Connection, kind: str, values: list) -> list:
    return [value for (value,) in conn.execute(
        f"SELECT unnest(%t::{kind}[])", (Column(values),)).fetchall()]


@pytest.mark.parametrize("value", AWKWARD)
def test_text_comes_back_as_sent(database_url, value):
    with psycopg.connect(database_url) as conn:
        assert sent(conn, "text", [value, "x", None]) == [value, "x", None]


def test_every_kind_of_column(database_url):
    ids = [uuid.uuid4() for _ in range(3)]
    with psycopg.connect(database_url) as conn:
        assert sent(conn, "text", AWKWARD) == AWKWARD
        assert sent(conn, "uuid", [str(ids[0]), ids[1], None]) == [ids[0], ids[1], None]
        assert sent(conn, "int", [1, -2, None, 2**31 - 1]) == [1, -2, None, 2**31 - 1]
        assert sent(conn, "bigint", [2**40]) == [2**40]
        assert sent(conn, "boolean", [True, False, None]) == [True, False, None]
        assert sent(conn, "text", []) == []
        stamps = sent(conn, "timestamptz", ["2026-11-24T10:00:00.123456+00:00", None])
        assert stamps[0].isoformat() == "2026-11-24T10:00:00.123456+00:00"
        flavors = sent(conn, "jsonb", ['{"vcpus": 1, "name": "m1 \\"tiny\\""}', None])
        assert flavors == [{"vcpus": 1, "name": 'm1 "tiny"'}, None]
        square = conn.execute("SELECT %t::text[]", (Column([["a", "b"], ["c", None]]),))
        assert square.fetchone()[0] == [["a", "b"], ["c", None]]


def test_the_fast_way_is_taken_where_it_is_safe():
    dumper = _ColumnDumper(Column)
    assert dumper.dump(Column(["a", None, 'q"', "b\\s", "\\n", 7])) == \
        b'{"a",null,"q\\"","b\\\\s","\\\\n",7}'
    # JSON's own escapes differ from an array literal's: psycopg writes those.
    assert dumper.dump(Column(["line\nbreak", None])) == b'{"line\nbreak",NULL}'


def test_a_text_array_literal_holds_any_strings(database_url):
    tags = [value for value in AWKWARD if value is not None]
    with psycopg.connect(database_url) as conn:
        for values in (tags, [], ["one"], ['"', "\\", ","]):
            assert conn.execute("SELECT %s::text[]", (text_array(values),)).fetchone()[0] \
                == values
        # One literal per row, inside a column of them (as folds.insert_servers sends).
        rows = [tags, [], ["x"]]
        assert sent(conn, "text", [text_array(row) for row in rows]) == \
            [text_array(row) for row in rows]
        assert [row for (row,) in conn.execute(
            "SELECT p.t::text[] FROM unnest(%t::text[]) AS p(t)",
            (Column([text_array(row) for row in rows]),))] == rows
