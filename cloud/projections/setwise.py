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

A batch is cut into *waves*, each wave folded as one set-wise statement per fold. Events
whose folds have no set-wise form fold one by one as before, and each is a barrier: the
waves before it are folded first, and those after it start afresh.
"""

from collections.abc import Callable, Iterable, Iterator
from typing import Any, NamedTuple

from psycopg import Cursor

from cloud.adapters.eventstore import Recorded
from cloud.domain.envelope import Envelope


# Every set-wise statement finds each event's rows by key. Left to itself the planner,
# guessing at how many events an ``unnest`` holds, hashes whole tables instead (a scan
# per statement: the larger the read models, the slower each batch). While it folds, a
# transaction joins only by nested loops over the keys' indexes; afterwards it plans as
# it did before (``cloud audit verify`` compares tables in the same transaction).
_JOINS = ("enable_hashjoin", "enable_mergejoin")
KEYED_PLANS = "SELECT " + ", ".join(
    f"set_config('cloud.{name}', current_setting('{name}'), true),"
    f" set_config('{name}', 'off', true)" for name in _JOINS)
PLANS_RESTORED = "SELECT " + ", ".join(
    f"set_config('{name}', current_setting('cloud.{name}'), true)" for name in _JOINS)


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
    must all come from one SetFold, since it is what combines them.
    """

    run: Callable[[Cursor, list[Folded]], None]
    touches: Callable[[Envelope], Iterable[Access]]


def chained(folds: list[SetFold]) -> SetFold:
    """Several read models' set-wise folds of one event, run in the order given."""
    if len(folds) == 1:
        return folds[0]

    def run(cur: Cursor, events: list[Folded]) -> None:
        for fold in folds:
            fold.run(cur, events)

    def touches(env: Envelope) -> list[Access]:
        return [access for fold in folds for access in fold.touches(env)]
    return SetFold(run, touches)


class Wave(NamedTuple):
    """Events folded together: all set-wise (``alone`` False) or one barrier event."""

    records: list[Recorded]
    alone: bool = False


def waves(records: list[Recorded], setwise: dict[str, SetFold],
          folded: Callable[[str], bool]) -> Iterator[Wave]:
    """Cut records (in log order) into waves: each wave's set-wise events commute with
    one another, and folding the waves in turn leaves what folding the records one by one
    leaves. ``folded(name)``: whether a name without a set-wise fold has a fold at all."""
    planned: list[list[Recorded]] = []
    # key -> tag -> the highest wave holding an access to it with that tag
    seen: dict[tuple, dict[str | None, int]] = {}
    for record in records:
        fold = setwise.get(record.envelope.event)
        if fold is None:
            if folded(record.envelope.event):
                yield from (Wave(wave) for wave in planned)
                yield Wave([record], alone=True)
                planned, seen = [], {}
            continue
        accesses = list(fold.touches(record.envelope))
        level = 0
        for key, tag in accesses:
            for other, at in seen.get(key, {}).items():
                level = max(level, at if tag is not None and other == tag else at + 1)
        if level == len(planned):
            planned.append([])
        planned[level].append(record)
        for key, tag in accesses:
            tags = seen.setdefault(key, {})
            tags[tag] = max(tags.get(tag, level), level)
    yield from (Wave(wave) for wave in planned)


def one_server(env: Envelope) -> list[Access]:
    """What most instance folds touch: the rows of the event's own server."""
    return [Access(("server", env.id))]


def transposed(per_event: Iterable[tuple]) -> list[list[Any]]:
    """One array per column from one tuple per event: the parameters of an ``unnest``."""
    return [list(column) for column in zip(*per_event)]


def rows(events: list[Folded], *columns: Callable[[Folded], Any]) -> list[list[Any]]:
    """One array per column, one element per event: the parameters of an ``unnest``."""
    return [[column(event) for event in events] for column in columns]


def unnest(**columns: str) -> str:
    """``unnest(%s::t1[], …) AS p(c1, …)`` for columns given as name=type, in order."""
    arrays = ", ".join(f"%b::{kind}[]" for kind in columns.values())
    return f"unnest({arrays}) AS p({', '.join(columns)})"
