"""Read model for Nova's instance actions (``os-instance-actions``), folded from the log.

An *action* is what one request did to one server (``create``, ``stop``, ``lock``…),
keyed by the request id the API answered with; its *events* are the steps agents carried
out for it (``compute_stop_instance``…), each with its host, result and times. Which log
event starts an action, starts a step or ends one is data (``ACTIONS``, ``STEPS``).

Every fold is idempotent, and order-deterministic: a step row is keyed by the instance
version of the log event that began it, and a log event only ever looks at rows begun
before it, so folding the same events again (or twice in a row) leaves the same rows.
"""

import uuid
from typing import Any, NamedTuple

from psycopg import Cursor
from psycopg_pool import ConnectionPool

from cloud.domain.envelope import Envelope
from cloud.projections.folds import Fold

DDL = """
CREATE TABLE IF NOT EXISTS instance_actions (
    instance_id uuid NOT NULL,
    request_id text NOT NULL,
    action text NOT NULL,
    user_id text,
    project_id text,
    start_time timestamptz NOT NULL,
    updated_at timestamptz NOT NULL,
    message text,
    started_by int NOT NULL,
    PRIMARY KEY (instance_id, request_id)
);
CREATE INDEX IF NOT EXISTS instance_actions_newest
    ON instance_actions (instance_id, start_time DESC, started_by DESC);
CREATE TABLE IF NOT EXISTS instance_action_events (
    instance_id uuid NOT NULL,
    request_id text NOT NULL,
    event text NOT NULL,
    start_time timestamptz NOT NULL,
    finish_time timestamptz,
    result text,
    host text,
    details text,
    traceback text,
    started_by int NOT NULL,
    finished_by int,
    PRIMARY KEY (instance_id, started_by, event)
);
"""

SUCCESS, ERROR = "Success", "Error"
SCHEDULE = "conductor_schedule_and_build_instances"
BUILD = "compute_build_and_run_instance"
TERMINATE = "compute_terminate_instance"

# The log events that begin an action, and Nova's name for it (nova/compute/
# instance_actions.py). Metadata, tag and name changes record no action in Nova either.
ACTIONS: dict[str, str] = {
    "InstanceRequested": "create",
    "InstanceDeleteRequested": "delete",
    "InstanceStopRequested": "stop",
    "InstanceStartRequested": "start",
    "InstanceRebootRequested": "reboot",
    "InstancePauseRequested": "pause",
    "InstanceUnpauseRequested": "unpause",
    "InstanceSuspendRequested": "suspend",
    "InstanceResumeRequested": "resume",
    "InstanceRebuildRequested": "rebuild",
    "InstanceResizeRequested": "resize",
    "InstanceResizeRevertRequested": "revertResize",
    "InstanceResizeConfirmed": "confirmResize",
    "InstanceLocked": "lock",
    "InstanceUnlocked": "unlock",
}

# What a host does for each action request (Nova's compute-manager event name) and the
# log event that says it is done.
HOST_STEPS: dict[str, tuple[str, str]] = {
    "InstanceStopRequested": ("compute_stop_instance", "InstanceStopped"),
    "InstanceStartRequested": ("compute_start_instance", "InstanceStarted"),
    "InstanceRebootRequested": ("compute_reboot_instance", "InstanceRebooted"),
    "InstancePauseRequested": ("compute_pause_instance", "InstancePaused"),
    "InstanceUnpauseRequested": ("compute_unpause_instance", "InstanceUnpaused"),
    "InstanceSuspendRequested": ("compute_suspend_instance", "InstanceSuspended"),
    "InstanceResumeRequested": ("compute_resume_instance", "InstanceResumed"),
    "InstanceRebuildRequested": ("compute_rebuild_instance", "InstanceRebuilt"),
    "InstanceResizeRequested": ("compute_resize_instance", "InstanceResized"),
    "InstanceResizeRevertRequested": ("compute_revert_resize", "InstanceResizeReverted"),
}


class Step(NamedTuple):
    """How one log event moves an action's steps along."""

    # The latest unfinished of these steps ends with this event...
    finishes: tuple[str, ...] = ()
    result: str = SUCCESS
    # ...or, when none is unfinished, this step is recorded as begun and ended at once.
    fallback: str | None = None
    # The step this event begins (only when the event names a host, if it has the field:
    # a delete with no host has nobody to terminate anything).
    opens: str | None = None


_HOST_STEP_NAMES = tuple(step for step, _ in HOST_STEPS.values())
STEPS: dict[str, Step] = {
    "InstanceRequested": Step(opens=SCHEDULE),
    "InstanceScheduled": Step(finishes=(SCHEDULE,), opens=BUILD),
    "InstanceSpawned": Step(finishes=(BUILD,)),
    "InstanceRescheduled": Step(finishes=(BUILD,), result=ERROR),
    # A failure after a reschedule (NoValidHost) finds no step open: it ends a new one.
    "InstanceFailed": Step(finishes=(SCHEDULE, BUILD), result=ERROR, fallback=SCHEDULE),
    "InstanceDeleteRequested": Step(opens=TERMINATE),
    "InstanceDeleted": Step(finishes=(TERMINATE,)),
    "InstanceResizeConfirmed": Step(finishes=("compute_confirm_resize",),
                                    fallback="compute_confirm_resize"),
    "InstanceActionFailed": Step(finishes=_HOST_STEP_NAMES, result=ERROR),
    **{request: Step(opens=step) for request, (step, _) in HOST_STEPS.items()},
    **{done: Step(finishes=(step,)) for step, done in HOST_STEPS.values()},
}
# Actions recorded without a request id (none today; an operator's tool might) get one
# derived from the event, the same on every replay.
_UNNAMED_REQUESTS = uuid.UUID("6a1e0c4e-5b0c-4d43-9f0e-6f2f3c1d7a10")


def _request_id(env: Envelope) -> str:
    return env.request_id or f"req-{uuid.uuid5(_UNNAMED_REQUESTS, f'{env.id}:{env.version}')}"


def _begin_action(cur: Cursor, env: Envelope) -> str:
    """The action this request starts (the first event of a request wins); its key."""
    request_id = _request_id(env)
    user_id = getattr(env.data, "user_id", None) or env.actor.user_id
    project_id = getattr(env.data, "project_id", None) or env.actor.project_id
    cur.execute(
        "INSERT INTO instance_actions (instance_id, request_id, action, user_id, project_id,"
        " start_time, updated_at, started_by) SELECT %s, %s, %s, coalesce(%s, s.user_id),"
        " coalesce(%s, s.project_id), %s, %s, %s FROM (SELECT 1) AS one"
        " LEFT JOIN servers s ON s.id = %s ON CONFLICT (instance_id, request_id) DO NOTHING",
        (env.id, request_id, ACTIONS[env.event], user_id, project_id, env.timestamp,
         env.timestamp, env.version, env.id))
    return request_id


def _failure(env: Envelope) -> tuple[str | None, str | None]:
    """What went wrong, as Nova's ``details`` (the fault message) and ``traceback``."""
    fault = getattr(env.data, "fault", None)
    if fault is not None:
        return fault.message, fault.details or None
    return getattr(env.data, "reason", None), None


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


FOLDS: dict[str, Fold] = {name: instance_action_fold for name in {*ACTIONS, *STEPS}}


# --- queries --------------------------------------------------------------------------

Row = dict[str, Any]
_ACTION_COLUMNS = ("instance_id::text AS instance_uuid, request_id, action, user_id,"
                   " project_id, start_time, updated_at, message, started_by")


class InstanceActionQueries:
    """Actions and their steps through the read models' pool (dict rows, autocommit)."""

    def __init__(self, pool: ConnectionPool) -> None:
        self.pool = pool

    def _all(self, sql: str, params: tuple = ()) -> list[Row]:
        with self.pool.connection() as conn:
            return conn.execute(sql, params).fetchall()  # type: ignore[return-value]

    def server(self, server_id: str, *, with_deleted: bool) -> Row | None:
        """The server whose actions are asked for; deleted ones only if asked."""
        rows = self._all("SELECT id::text AS id, project_id, vm_state FROM servers"
                         " WHERE id::text = %s", (server_id,))
        if not rows or (rows[0]["vm_state"] == "deleted" and not with_deleted):
            return None
        return rows[0]

    def action(self, instance_id: str, request_id: str) -> Row | None:
        rows = self._all(f"SELECT {_ACTION_COLUMNS} FROM instance_actions"
                         " WHERE instance_id = %s AND request_id = %s",
                         (instance_id, request_id))
        return rows[0] if rows else None

    def actions(self, instance_id: str, *, limit: int, after: Row | None = None,
                since: Any = None, before: Any = None) -> list[Row]:
        """Newest first (Nova's order), after a marker action, by ``updated_at``."""
        where, params = ["instance_id = %s"], [instance_id]
        if after is not None:
            where.append("(start_time, started_by) < (%s, %s)")
            params += [after["start_time"], after["started_by"]]
        if since is not None:
            where.append("updated_at >= %s")
            params.append(since)
        if before is not None:
            where.append("updated_at <= %s")
            params.append(before)
        return self._all(f"SELECT {_ACTION_COLUMNS} FROM instance_actions WHERE"
                         f" {' AND '.join(where)} ORDER BY start_time DESC,"
                         " started_by DESC LIMIT %s", (*params, limit))

    def events(self, instance_id: str, request_id: str) -> list[Row]:
        """An action's steps, newest first (as Nova lists them)."""
        return self._all("SELECT * FROM instance_action_events WHERE instance_id = %s"
                         " AND request_id = %s ORDER BY start_time DESC, started_by DESC",
                         (instance_id, request_id))
