"""The statement that moves an instance action's steps, written for each kind of step.

``instance_actions`` folds the log events that move a step with one statement of up
to four parts (end a step, record a fallback step, open a step, touch the action), for
any number of events of different instances at once (see setwise.py). A part that a
kind of step never uses is left out of that kind's statement instead of
being switched off by a parameter: the server then neither plans nor starts executor
nodes for it, which made this statement the costliest of the projector's. Each shape
is built once and its text kept, so the driver prepares it like any other statement.
"""

from functools import cache
from typing import NamedTuple


class Shape(NamedTuple):
    """Which parts one event's statement needs (see ``instance_actions.Step``)."""

    latest: bool  # the action is found by the statement (no request named by the fold)
    finishes: bool  # it ends the latest unfinished of some steps
    fallback: bool  # ...or, none being unfinished, records a step begun and ended now
    opens: bool  # it begins a step
    failed: bool  # the action's message becomes 'Error'


# The events of one statement, one row each (every array has one element per event).
_EVENTS = (
    "p AS (SELECT * FROM unnest(%(id)t::uuid[], %(version)t::int[], %(request)t::text[],"
    " %(at)t::timestamptz[], %(agent)t::text[], %(details)t::text[], %(traceback)t::text[],"
    " %(host)t::text[], %(open_host)t::text[]) AS p(id, version, request, at, agent,"
    " details, traceback, host, open_host))")
# The action an event belongs to: the one its request began (named by the fold), else
# the instance's latest begun before it, its own request's first (an agent's own timeout
# carries no request id). An event with no action moves nothing.
_ACTION_OF = (
    "SELECT p.*, a.request_id FROM p CROSS JOIN LATERAL (SELECT request_id"
    " FROM instance_actions WHERE instance_id = p.id AND started_by < p.version"
    " ORDER BY request_id IS NOT DISTINCT FROM p.request DESC, started_by DESC LIMIT 1) a")
_ACTION_NAMED = "SELECT p.*, p.request AS request_id FROM p"

# steps: each event with the latest unfinished step of those it finishes (its own
# request's first), if any (one index probe each); ended: those steps end now.
_ENDED = """steps AS (
    SELECT act.*, o.started_by AS step_started_by, o.event AS step,
        o.request_id AS step_request
    FROM act LEFT JOIN LATERAL (
        SELECT o.started_by, o.event, o.request_id FROM instance_action_events o
        WHERE o.instance_id = act.id AND o.event = ANY(%(finishes)s::text[])
        AND o.started_by < act.version
        AND (o.finished_by IS NULL OR o.finished_by = act.version)
        ORDER BY o.request_id = act.request_id DESC, o.started_by DESC
        LIMIT 1) o ON true),
ended AS (
    UPDATE instance_action_events e SET finish_time = t.at, result = %(result)s,
        finished_by = t.version, host = coalesce(e.host, t.agent),
        details = t.details, traceback = t.traceback
    FROM steps t
    WHERE t.step IS NOT NULL
    AND e.instance_id = t.id AND e.started_by = t.step_started_by AND e.event = t.step)"""
# recorded: when no step was ended, the fallback step, begun where the action's previous
# step ended.
_RECORDED = """recorded AS (
    INSERT INTO instance_action_events (instance_id, request_id, event, start_time,
        finish_time, result, host, details, traceback, started_by, finished_by)
    SELECT act.id, act.request_id, %(fallback)s::text,
        coalesce((SELECT max(q.finish_time) FROM instance_action_events q
                  WHERE q.instance_id = act.id AND q.request_id = act.request_id
                  AND q.finished_by < act.version), act.at),
        act.at, %(result)s, act.host, act.details, act.traceback, act.version, act.version
    FROM {events} act{unless_ended}
    ON CONFLICT DO NOTHING)"""
# opened: the step the event begins, on the event's host.
_OPENED = """opened AS (
    INSERT INTO instance_action_events (instance_id, request_id, event, start_time, host,
        started_by)
    SELECT act.id, act.request_id, %(opens)s::text, act.at, act.open_host, act.version
    FROM act
    ON CONFLICT DO NOTHING)"""
# The action (the ended step's, or the event's) takes the time as updated_at, and
# 'Error' as message when the event is a failure.
_TOUCHED = """UPDATE instance_actions a SET updated_at = greatest(a.updated_at, x.at){message}
FROM {events} x
WHERE a.instance_id = x.id AND ({which})"""


@cache
def statement(shape: Shape) -> str | None:
    """The statement for one shape, for any number of events of different instances;
    None when it would change nothing.

    All parts see the tables as they were before the statement, as the steps did one
    by one: none reads a row another part writes.
    """
    if not (shape.finishes or shape.fallback or shape.opens):
        return None
    # Each event's row: with its ended step's columns when it finishes one. The action
    # whose steps moved is the ended step's, else the event's.
    events = "steps" if shape.finishes else "act"
    ended_action = ("coalesce(x.step_request, x.request_id)" if shape.finishes
                    else "x.request_id")
    parts = [_EVENTS, f"act AS ({_ACTION_OF if shape.latest else _ACTION_NAMED})"]
    if shape.finishes:
        parts.append(_ENDED)
    if shape.fallback:
        parts.append(_RECORDED.format(
            events=events, unless_ended=" WHERE act.step IS NULL" if shape.finishes else ""))
    if shape.opens:
        parts.append(_OPENED)
    which = ([f"a.request_id = {ended_action}"] if shape.finishes else []) + \
        (["a.request_id = x.request_id"] if shape.opens else [])
    if not which:  # nothing to touch: the data-modifying parts run all the same
        return "WITH " + ",\n".join(parts) + "\nSELECT 1"
    message = (f",\n    message = CASE WHEN a.request_id = {ended_action}"
               " THEN 'Error' ELSE a.message END") if shape.failed else ""
    return "WITH " + ",\n".join(parts) + "\n" + _TOUCHED.format(
        message=message, which=" OR ".join(which), events=events)
