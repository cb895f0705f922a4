"""Read model for Nova's instance actions (``os-instance-actions``), folded from the log.

An *action* is what one request did to one server (``create``, ``stop``, ``lock``…),
keyed by the request id the API answered with; its *events* are the steps agents carried
out for it (``compute_stop_instance``…), each with its host, result and times. Which log
event starts an action, starts a step or ends one is data (``ACTIONS``, ``STEPS``).

Every fold is idempotent, and order-deterministic: a step row is keyed by the instance
version of the log event that began it, and a log event only ever looks at rows begun
before it, so folding the same events again (or twice in a row) leaves the same rows.
"""

import hashlib
import uuid
from functools import cache
from typing import Any, NamedTuple

from psycopg import Cursor
from psycopg_pool import ConnectionPool

from cloud.domain.envelope import Envelope
from cloud.projections import action_steps
from cloud.projections.folds import Fold
from cloud.projections.setwise import Folded, SetFold, one_server, rows, transposed, unnest

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


_NAMESPACE = _UNNAMED_REQUESTS.bytes


def request_id_of(env: Envelope) -> str:
    return env.request_id or _derived(f"{env.id}:{env.version}")


def _derived(name: str) -> str:
    """``f"req-{uuid.uuid5(_UNNAMED_REQUESTS, name)}"``, without building a UUID: a
    replay derives one for every action of a log recorded without request ids."""
    digest = hashlib.sha1(_NAMESPACE + name.encode()).hexdigest()
    # RFC 4122 version 5: the version nibble is 5, the variant's top bits are 10.
    return (f"req-{digest[:8]}-{digest[8:12]}-5{digest[13:16]}-"
            f"{'89ab'[int(digest[16], 16) & 3]}{digest[17:20]}-{digest[20:32]}")


_BEGIN = (
    "INSERT INTO instance_actions (instance_id, request_id, action, user_id, project_id,"
    " start_time, updated_at, started_by) SELECT p.id, p.request, p.action,"
    " coalesce(p.user_id, s.user_id), coalesce(p.project_id, s.project_id), p.at, p.at,"
    " p.version FROM " + unnest(id="uuid", request="text", action="text", user_id="text",
                                project_id="text", at="timestamptz", version="int") +
    " LEFT JOIN servers s ON s.id = p.id ON CONFLICT (instance_id, request_id) DO NOTHING")


def _begin_actions(cur: Cursor, events: list[Folded]) -> None:
    """The actions these requests start (the first event of a request wins)."""
    if not events:
        return
    cur.execute(_BEGIN, rows(
        events, lambda f: f.env.id, lambda f: request_id_of(f.env),
        lambda f: ACTIONS[f.env.event],
        lambda f: getattr(f.env.data, "user_id", None) or f.env.actor.user_id,
        lambda f: getattr(f.env.data, "project_id", None) or f.env.actor.project_id,
        lambda f: f.env.timestamp, lambda f: f.env.version))


def failure_of(env: Envelope) -> tuple[str | None, str | None]:
    """What went wrong, as Nova's ``details`` (the fault message) and ``traceback``."""
    fault = getattr(env.data, "fault", None)
    if fault is not None:
        return fault.message, fault.details or None
    return getattr(env.data, "reason", None), None


def shape_of(env: Envelope) -> action_steps.Shape | None:
    """The shape of the statement that moves an event's steps (None: it moves none)."""
    if env.event not in STEPS:
        return None
    return shape(env.event, hosted(env))


def hosted(env: Envelope) -> bool:
    """Whether an event names a host, if it has the field (a delete before scheduling
    names none: it opens no step)."""
    return getattr(env.data, "host", "") is not None


@cache
def shape(name: str, hosted: bool) -> action_steps.Shape:
    """The shape of the step statement of events of a name (see shape_of)."""
    step = STEPS[name]
    return action_steps.Shape(
        latest=name not in ACTIONS, finishes=bool(step.finishes),
        fallback=step.fallback is not None, opens=hosted and step.opens is not None,
        failed=step.result == ERROR)


def _step_row(env: Envelope, failed: bool) -> tuple:
    host = getattr(env.data, "host", "")
    details, traceback = failure_of(env) if failed else (None, None)
    request = request_id_of(env) if env.event in ACTIONS else env.request_id
    return (env.id, env.version, request, env.timestamp, env.actor.agent, details,
            traceback, host or env.actor.agent, host or None)


_STEP_COLUMNS = ("id", "version", "request", "at", "agent", "details", "traceback", "host",
                 "open_host")


def _move_steps(cur: Cursor, events: list[Folded]) -> None:
    """Move the steps of the actions these events belong to: one statement per kind of
    step (no result is read back, so the projector sends a whole batch without
    waiting)."""
    kinds: dict[tuple[str, action_steps.Shape], list[Envelope]] = {}
    for f in events:
        shape = shape_of(f.env)
        if shape is not None:
            kinds.setdefault((f.env.event, shape), []).append(f.env)
    for (name, shape), envs in kinds.items():
        statement = action_steps.statement(shape)
        if statement is None:
            continue
        step = STEPS[name]
        columns = transposed(_step_row(env, shape.failed) for env in envs)
        cur.execute(statement, {
            **dict(zip(_STEP_COLUMNS, columns)), "result": step.result,
            "finishes": list(step.finishes), "fallback": step.fallback,
            "opens": step.opens})


def _fold(cur: Cursor, events: list[Folded]) -> None:
    """Start actions, then move the steps of the ones these events belong to."""
    _begin_actions(cur, [f for f in events if f.env.event in ACTIONS])
    _move_steps(cur, events)


def instance_action_fold(cur: Cursor, env: Envelope) -> None:
    """One event: start an action, or move the steps of the one it belongs to."""
    _fold(cur, [Folded(0, env)])


FOLDS: dict[str, Fold] = {name: instance_action_fold for name in {*ACTIONS, *STEPS}}
# Any number at once (see setwise.py): every event folded here touches only the rows of
# its own instance.
STEPS_FOLD = SetFold(_fold, one_server)
SETWISE: dict[str, SetFold] = {name: STEPS_FOLD for name in FOLDS}


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
