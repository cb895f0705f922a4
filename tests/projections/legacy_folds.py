"""The folds as they were before the projector's statements were specialised: the
reference the faster folds are compared with. ``_MOVE_STEPS`` is the one general
statement (every part present, switched on and off by parameters) that
``cloud.projections.action_steps`` now writes per kind of step; everything else is the
registry's own folds, assembled in the registry's order.
"""

from psycopg import Cursor

from cloud.domain.envelope import Envelope
from cloud.projections import aggregates, flavors, folds, identity, images, keypairs
from cloud.projections import quotas, registry, server_actions, server_attributes
from cloud.projections import instance_actions
from cloud.projections import services as compute_services
from cloud.projections.instance_actions import ACTIONS, ERROR, STEPS, Step, _begin_action
from cloud.projections.instance_actions import _failure

# The action an event belongs to: the one its request began (named by the fold), else
# the instance's latest begun before it, its own request's first (an agent's own timeout
# carries no request id).
_ACTION_OF = (
    "SELECT request_id FROM instance_actions WHERE instance_id = %(id)s"
    " AND started_by < %(version)s"
    " ORDER BY request_id IS NOT DISTINCT FROM %(request)s DESC, started_by DESC LIMIT 1")

# How one log event moves its action's steps, as one statement (no result is read back,
# so the projector can send a whole batch without waiting):
#   ended:    the latest unfinished step of those it finishes (its own request's first)
#             ends now;
#   recorded: when none was unfinished and the event has a fallback step, that step is
#             recorded as begun where the action's previous step ended and ended now;
#   opened:   the step the event begins, on the event's host;
#   and the action (the ended step's, or the event's) takes the time as updated_at, and
#   'Error' as message when the event is a failure.
# All parts see the tables as they were before the statement, as the steps did one by
# one: none reads a row another part writes. The step to end is found by an
# uncorrelated subquery (one index probe), not per row of the table.
_MOVE_STEPS = """
WITH act AS ({action}),
ended AS (
    UPDATE instance_action_events e SET finish_time = %(at)s, result = %(result)s,
        finished_by = %(version)s, host = coalesce(e.host, %(agent)s),
        details = %(details)s, traceback = %(traceback)s
    WHERE %(finishes_any)s AND e.instance_id = %(id)s
    AND (e.instance_id, e.started_by, e.event) = (
        SELECT o.instance_id, o.started_by, o.event FROM instance_action_events o
        WHERE o.instance_id = %(id)s AND o.event = ANY(%(finishes)s::text[])
        AND o.started_by < %(version)s
        AND (o.finished_by IS NULL OR o.finished_by = %(version)s)
        AND EXISTS (SELECT 1 FROM act)
        ORDER BY o.request_id = (SELECT request_id FROM act) DESC, o.started_by DESC
        LIMIT 1)
    RETURNING e.request_id),
recorded AS (
    INSERT INTO instance_action_events (instance_id, request_id, event, start_time,
        finish_time, result, host, details, traceback, started_by, finished_by)
    SELECT %(id)s, act.request_id, %(fallback)s::text,
        coalesce((SELECT max(p.finish_time) FROM instance_action_events p
                  WHERE p.instance_id = %(id)s AND p.request_id = act.request_id
                  AND p.finished_by < %(version)s), %(at)s),
        %(at)s, %(result)s, %(host)s, %(details)s, %(traceback)s, %(version)s, %(version)s
    FROM act WHERE %(fallback)s::text IS NOT NULL AND NOT EXISTS (SELECT 1 FROM ended)
    ON CONFLICT DO NOTHING),
opened AS (
    INSERT INTO instance_action_events (instance_id, request_id, event, start_time, host,
        started_by)
    SELECT %(id)s, act.request_id, %(opens)s::text, %(at)s, %(open_host)s, %(version)s
    FROM act WHERE %(opens)s::text IS NOT NULL
    ON CONFLICT DO NOTHING)
UPDATE instance_actions a SET updated_at = greatest(a.updated_at, %(at)s),
    message = CASE WHEN %(failed)s AND a.request_id = coalesce(
        (SELECT request_id FROM ended), act.request_id) THEN 'Error' ELSE a.message END
FROM act
WHERE a.instance_id = %(id)s AND (
    (%(finishes_any)s AND a.request_id = coalesce((SELECT request_id FROM ended),
                                                  act.request_id))
    OR (%(opens)s::text IS NOT NULL AND a.request_id = act.request_id))
"""
_STEPS_OF_REQUEST = _MOVE_STEPS.format(action="SELECT %(request)s::text AS request_id")
_STEPS_OF_LATEST = _MOVE_STEPS.format(action=_ACTION_OF)


def _move_steps(cur: Cursor, env: Envelope, request_id: str | None, step: Step) -> None:
    """Move the steps of the action ``request_id`` names (None: the action the log event
    belongs to, found by the statement itself)."""
    details, traceback = _failure(env) if step.result == ERROR else (None, None)
    host = getattr(env.data, "host", "")
    opens = step.opens if host is not None else None  # a delete before scheduling
    cur.execute(_STEPS_OF_LATEST if request_id is None else _STEPS_OF_REQUEST, {
        "id": env.id, "version": env.version, "request": request_id or env.request_id,
        "at": env.timestamp, "result": step.result, "agent": env.actor.agent,
        "details": details, "traceback": traceback,
        "finishes_any": bool(step.finishes), "finishes": list(step.finishes),
        "fallback": step.fallback, "host": host or env.actor.agent,
        "opens": opens, "open_host": host or None, "failed": step.result == ERROR})


def instance_action_fold(cur: Cursor, env: Envelope) -> None:
    """Start an action, or move the steps of the one this event belongs to."""
    request_id = _begin_action(cur, env) if env.event in ACTIONS else None
    step = STEPS.get(env.event)
    if step is not None:
        _move_steps(cur, env, request_id, step)


FOLDS = {**folds.FOLDS, **identity.FOLDS, **images.FOLDS, **quotas.FOLDS,
         **keypairs.FOLDS, **server_actions.FOLDS, **compute_services.FOLDS, **flavors.FOLDS}
FOLDS = registry._merged(FOLDS, aggregates.FOLDS)
FOLDS = registry._merged(FOLDS, {name: instance_action_fold
                                 for name in instance_actions.FOLDS})
FOLDS = registry._merged(FOLDS, server_attributes.FOLDS)
