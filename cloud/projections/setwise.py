"""Folding many events with one statement: which events may share one, and the helper
that turns a list of events into a statement's rows.

Most of a busy log is a few kinds of event (a server's life: requested, claimed,
scheduled, spawned, deleted, released). Folded one by one, each costs the server the
start-up of two or three statements, and that, not the work in them, bounds the
projector. Each of those kinds has a set-wise fold instead: one statement for all the
events of a batch that can go together, whose rows come from ``unnest`` of arrays.

Which can go together is worked out from what each fold says it touches (``Access``):

- events that touch none of the same rows commute, so they can be folded in any order,
  and so at once;
- an exclusive access (no tag) orders the event after every earlier one touching the
  same key: a server's events, one host's claim and release for one instance;
- accesses with the same tag to one key may share a wave but never go back in log order
  across waves: the fold for that tag combines several of them itself (a host's usage
  takes the sum of its claims, and the time of the latest).

A batch is cut into runs of events with set-wise folds (``segments``): an event whose
folds have no set-wise form folds one by one as before, and is a barrier: the run before
it is folded first, and the one after it starts afresh. Each run is cut into *waves*,
each wave folded as one set-wise statement per fold. Servers requested in a run are
folded in the client instead, each row written once (newborn.py).
"""

import re
import uuid
from collections.abc import Callable, Iterable, Iterator
from typing import Any, NamedTuple

import msgspec
import psycopg
from psycopg import Cursor
from psycopg.adapt import Dumper
from psycopg.types.array import ListDumper

from cloud.adapters.eventstore import Recorded
from cloud.domain.envelope import Envelope


# Every set-wise statement finds each event's rows by key. Left to itself the planner,
# guessing at how many events an ``unnest`` holds, hashes whole tables instead (a scan
# per statement: the larger the read models, the slower each batch). While it folds, a
# transaction joins only by nested loops over the keys' indexes; afterwards it plans as
# it did before (``cloud audit verify`` compares tables in the same transaction).
# Nor does it compile plans to machine code (``jit``): a statement for enough events
# passes ``jit_above_cost``, and is compiled again at every execution. One inserting
# 15,842 servers at once took 704-818 ms so, 373-456 ms without (docs/benchmarks.md,
# session 8).
_OFF = ("enable_hashjoin", "enable_mergejoin", "jit")
KEYED_PLANS = "SELECT " + ", ".join(
    f"set_config('cloud.{name}', current_setting('{name}'), true),"
    f" set_config('{name}', 'off', true)" for name in _OFF)
PLANS_RESTORED = "SELECT " + ", ".join(
    f"set_config('{name}', current_setting('cloud.{name}'), true)" for name in _OFF)


class Folded(NamedTuple):
    """An event with its log position (stamped on rows that keep it, see changes.py)."""

    position: int
    env: Envelope


class Access(NamedTuple):
    """Rows a fold touches: a key naming them and, for combinable accesses, a tag."""

    key: tuple
    tag: str | None = None


class SetFold(NamedTuple):
    """A fold for any number of events of one or more names, in one statement or a few.

    ``run`` gets events that commute with each other (see ``waves``), in log order;
    ``touches`` says which rows one event's fold reads or writes. Accesses sharing a tag
    must all come from one SetFold, since it is what combines them. ``needs``, if
    given, says whether an event needs this fold at all (one it does not need, ``run``
    would pass over): such an event can be left out of the waves.
    """

    run: Callable[[Cursor, list[Folded]], None]
    touches: Callable[[Envelope], Iterable[Access]]
    needs: Callable[[Envelope], bool] | None = None


def chained(folds: list[SetFold]) -> SetFold:
    """Several read models' set-wise folds of one event, run in the order given."""
    if len(folds) == 1:
        return folds[0]

    def run(cur: Cursor, events: list[Folded]) -> None:
        for fold in folds:
            fold.run(cur, events)

    def touches(env: Envelope) -> list[Access]:
        return [access for fold in folds for access in fold.touches(env)]
    needs = [fold.needs for fold in folds]
    if None in needs:
        return SetFold(run, touches)
    return SetFold(run, touches,
                   lambda env: any(needed(env) for needed in needs))  # type: ignore[misc]


def segments(records: list[Recorded], setwise: Callable[[str], bool],
             folded: Callable[[str], bool]) -> Iterator[tuple[list[Recorded], Recorded | None]]:
    """Cut records (in log order) into runs of events with set-wise folds (``setwise``),
    each with the event that ends it (None for the last run): one that has a fold
    (``folded``) but no set-wise one, folded on its own after the run. Events with no
    fold at all stay in their run, for waves to skip."""
    run: list[Recorded] = []
    for record in records:
        name = record.envelope.event
        if not setwise(name) and folded(name):
            yield run, record
            run = []
        else:
            run.append(record)
    yield run, None


def waves(records: list[Recorded],
          fold_of: Callable[[Recorded], SetFold | None]) -> Iterator[list[Recorded]]:
    """Cut a run of records (in log order, see ``segments``) into waves: each wave's
    events commute with one another, and folding the waves in turn, each event with the
    set-wise fold ``fold_of`` gives it, leaves what folding the records one by one
    leaves. An event ``fold_of`` gives no fold is left out."""
    for wave in planned_waves(records, fold_of):
        yield [record for record, _ in wave]


def planned_waves(records: list[Recorded], fold_of: Callable[[Recorded], SetFold | None]
                  ) -> list[list[tuple[Recorded, SetFold]]]:
    """``waves``, each event with its fold (asked of ``fold_of`` once per event)."""
    planned: list[list[tuple[Recorded, SetFold]]] = []
    # key -> tag -> the highest wave holding an access to it with that tag
    seen: dict[tuple, dict[str | None, int]] = {}
    for record in records:
        fold = fold_of(record)
        if fold is None:
            continue
        accesses = list(fold.touches(record.envelope))
        level = 0
        for key, tag in accesses:
            for other, at in seen.get(key, {}).items():
                level = max(level, at if tag is not None and other == tag else at + 1)
        if level == len(planned):
            planned.append([])
        planned[level].append((record, fold))
        for key, tag in accesses:
            tags = seen.setdefault(key, {})
            tags[tag] = max(tags.get(tag, level), level)
    return planned


def one_server(env: Envelope) -> list[Access]:
    """What most instance folds touch: the rows of the event's own server."""
    return [Access(("server", env.id))]


class Column(list):
    """One column of an ``unnest``'s rows: sent as one array literal (see _ColumnDumper)."""


# What an element may be for its column to be written by msgspec; and an escape in its
# JSON (once the \\ are taken out) that an array literal would read otherwise: JSON's
# \" and \\ mean the same in both, \n, \u0001 and the like do not.
_PLAIN = frozenset({str, int, bool, type(None), uuid.UUID})
_FOREIGN_ESCAPE = re.compile(rb'\\[^"\\]')
_json = msgspec.json.encode


class _ColumnDumper(Dumper):
    """A column as a text array literal, written by msgspec: a flat JSON array of
    strings, integers and nulls is one (``{…}`` for ``[…]``; ``null``, unquoted, is
    NULL) once it holds no escape but \" and \\. psycopg's binary dumper, element by
    element in Python, took a third of the projector's own time (docs/benchmarks.md,
    session 9). The server reads the literal straight as the type it is cast to.
    Anything else is written by psycopg's own text dumper."""

    format = psycopg.pq.Format.TEXT

    def __init__(self, cls: type, context: Any = None) -> None:
        super().__init__(cls, context)
        self._slow = ListDumper(list, context)

    def dump(self, obj: list[Any]) -> bytes:
        if _PLAIN.issuperset(map(type, obj)):
            data = _json(obj)
            if b"\\" not in data or _FOREIGN_ESCAPE.search(
                    data.replace(b"\\\\", b"")) is None:  # each \\ is one escape
                return b"{" + data[1:-1] + b"}"
        return bytes(self._slow.dump(obj))


psycopg.adapters.register_dumper(Column, _ColumnDumper)


def transposed(per_event: Iterable[tuple]) -> list[Column]:
    """One array per column from one tuple per event: the parameters of an ``unnest``."""
    return [Column(column) for column in zip(*per_event)]


def rows(events: list[Folded], *columns: Callable[[Folded], Any]) -> list[Column]:
    """One array per column, one element per event: the parameters of an ``unnest``."""
    return [Column([column(event) for event in events]) for column in columns]


def unnest(**columns: str) -> str:
    """``unnest(%t::t1[], …) AS p(c1, …)`` for columns given as name=type, in order; each
    parameter a Column."""
    arrays = ", ".join(f"%t::{kind}[]" for kind in columns.values())
    return f"unnest({arrays}) AS p({', '.join(columns)})"
