"""The statement that moves an instance action's steps, written for each kind of step.

``instance_actions`` folds every log event that moves a step with one statement of up
to four parts (end a step, record a fallback step, open a step, touch the action). A
part that a kind of step never uses is left out of that kind's statement instead of
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


# The action an event belongs to: the one its request began (named by the fold), else
# the instance's latest begun before it, its own request's first (an agent's own timeout
# carries no request id).
_ACTION_OF = (
    "SELECT request_id FROM instance_actions WHERE instance_id = %(id)s"
    " AND started_by < %(version)s"
    " ORDER BY request_id IS NOT DISTINCT FROM %(request)s DESC, started_by DESC LIMIT 1")
_ACTION_NAMED = "SELECT %(request)s::text AS request_id"

# ended: the latest unfinished step of those the event finishes (its own request's
# first) ends now. The step is found by an uncorrelated subquery (one index probe).
_ENDED = """ended AS (
    UPDATE instance_action_events e SET finish_time = %(at)s, result = %(result)s,
        finished_by = %(version)s, host = coalesce(e.host, %(agent)s),
        details = %(details)s, traceback = %(traceback)s
    WHERE e.instance_id = %(id)s
    AND (e.instance_id, e.started_by, e.event) = (
        SELECT o.instance_id, o.started_by, o.event FROM instance_action_events o
        WHERE o.instance_id = %(id)s AND o.event = ANY(%(finishes)s::text[])
        AND o.started_by < %(version)s
        AND (o.finished_by IS NULL OR o.finished_by = %(version)s)
        AND EXISTS (SELECT 1 FROM act)
        ORDER BY o.request_id = (SELECT request_id FROM act) DESC, o.started_by DESC
        LIMIT 1)
    RETURNING e.request_id)"""
# recorded: when no step was ended, the fallback step, begun where the action's previous
# step ended.
_RECORDED = """recorded AS (
    INSERT INTO instance_action_events (instance_id, request_id, event, start_time,
        finish_time, result, host, details, traceback, started_by, finished_by)
    SELECT %(id)s, act.request_id, %(fallback)s::text,
        coalesce((SELECT max(p.finish_time) FROM instance_action_events p
                  WHERE p.instance_id = %(id)s AND p.request_id = act.request_id
                  AND p.finished_by < %(version)s), %(at)s),
        %(at)s, %(result)s, %(host)s, %(details)s, %(traceback)s, %(version)s, %(version)s
    FROM act{unless_ended}
    ON CONFLICT DO NOTHING)"""
# opened: the step the event begins, on the event's host.
_OPENED = """opened AS (
    INSERT INTO instance_action_events (instance_id, request_id, event, start_time, host,
        started_by)
    SELECT %(id)s, act.request_id, %(opens)s::text, %(at)s, %(open_host)s, %(version)s
    FROM act
    ON CONFLICT DO NOTHING)"""
# The action (the ended step's, or the event's) takes the time as updated_at, and
# 'Error' as message when the event is a failure.
_TOUCHED = """UPDATE instance_actions a SET updated_at = greatest(a.updated_at, %(at)s){message}
FROM act
WHERE a.instance_id = %(id)s AND ({which})"""


@cache
def statement(shape: Shape) -> str | None:
    """The statement for one shape; None when it would change nothing.

    All parts see the tables as they were before the statement, as the steps did one
    by one: none reads a row another part writes.
    """
    if not (shape.finishes or shape.fallback or shape.opens):
        return None
    # The action whose steps moved: the ended step's, else the event's.
    ended_action = ("coalesce((SELECT request_id FROM ended), act.request_id)"
                    if shape.finishes else "act.request_id")
    parts = [f"act AS ({_ACTION_OF if shape.latest else _ACTION_NAMED})"]
    if shape.finishes:
        parts.append(_ENDED)
    if shape.fallback:
        parts.append(_RECORDED.format(unless_ended=" WHERE NOT EXISTS (SELECT 1 FROM ended)"
                                      if shape.finishes else ""))
    if shape.opens:
        parts.append(_OPENED)
    which = ([f"a.request_id = {ended_action}"] if shape.finishes else []) + \
        (["a.request_id = act.request_id"] if shape.opens else [])
    if not which:  # nothing to touch: the data-modifying parts run all the same
        return "WITH " + ",\n".join(parts) + "\nSELECT 1"
    message = (f",\n    message = CASE WHEN a.request_id = {ended_action}"
               " THEN 'Error' ELSE a.message END") if shape.failed else ""
    return "WITH " + ",\n".join(parts) + "\n" + _TOUCHED.format(
        message=message, which=" OR ".join(which))
