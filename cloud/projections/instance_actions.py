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
from cloud.projections import action_steps
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


def _move_steps(cur: Cursor, env: Envelope, request_id: str | None, step: Step) -> None:
    """Move the steps of the action ``request_id`` names (None: the action the log event
    belongs to, found by the statement itself), in one statement (no result is read
    back, so the projector can send a whole batch without waiting)."""
    host = getattr(env.data, "host", "")
    opens = step.opens if host is not None else None  # a delete before scheduling
    failed = step.result == ERROR
    statement = action_steps.statement(action_steps.Shape(
        latest=request_id is None, finishes=bool(step.finishes),
        fallback=step.fallback is not None, opens=opens is not None, failed=failed))
    if statement is None:
        return
    details, traceback = _failure(env) if failed else (None, None)
    cur.execute(statement, {
        "id": env.id, "version": env.version, "request": request_id or env.request_id,
        "at": env.timestamp, "result": step.result, "agent": env.actor.agent,
        "details": details, "traceback": traceback, "finishes": list(step.finishes),
        "fallback": step.fallback, "host": host or env.actor.agent,
        "opens": opens, "open_host": host or None})


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
