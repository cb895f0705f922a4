"""Servers born in a batch, folded in the client: each of their rows written once.

Folded statement by statement, a server's life costs a new version of its ``servers``
row for every event, of its action's row for every step, and one step row opened then
ended: about two and a half row versions per event, and those, not the statements,
bound the fold (docs/benchmarks.md, session 6). A server whose request is in the run of
set-wise events being folded has no rows before that run, so everything its events in
the run do to its rows can be worked out here, in log order, and written at the end of
the run: its ``servers`` row, its ``instance_actions`` and ``instance_action_events``,
each inserted once, as they stand after its last event of the run.

Here is what the statements of folds.py, aggregates.py (the zone) and instance_actions.py
(with action_steps.py) do, for one server at a time, in the same order; the equivalence
test (tests/projections/test_fold_equivalence.py) folds a log both ways and compares
every table. The other folds of these events (scheduler hints, a host's failed builds)
touch no row of the server's and still run as statements, in their waves.

A server is folded here only when it has no row before the run (``known``) and the run
holds nothing of it but the events below, starting with its one request, and one
schedule at most (its zone is looked up when its row is written, from the host it was
scheduled to; aggregates only change between runs). Anything else and the whole server
goes the statements' way.
"""

from datetime import datetime
from typing import Any, NamedTuple

from psycopg import Cursor

from cloud.adapters.eventstore import Recorded
from cloud.domain.envelope import Envelope
from cloud.projections import aggregates, folds, instance_actions
from cloud.projections.action_steps import Shape, statement
from cloud.projections.instance_actions import ACTIONS, STEPS, Step
from cloud.projections.setwise import SetFold, transposed, unnest

REQUESTED = "InstanceRequested"
# The events of a server's life this module folds, and the set-wise folds it takes over
# for them (the rest of each event's folds still run as statements).
NAMES = frozenset({REQUESTED, *folds.SERVER_CHANGES})
TAKES_OVER = frozenset({id(folds.SETWISE[name]) for name in NAMES} |
                       {id(aggregates.zone), id(instance_actions.STEPS_FOLD)})

_ACTION_COLUMNS = dict(instance_id="uuid", request_id="text", action="text",
                       user_id="text", project_id="text", start_time="timestamptz",
                       updated_at="timestamptz", message="text", started_by="int")
_STEP_COLUMNS = dict(instance_id="uuid", request_id="text", event="text",
                     start_time="timestamptz", finish_time="timestamptz", result="text",
                     host="text", details="text", traceback="text", started_by="int",
                     finished_by="int")


def _insert(table: str, columns: dict[str, str]) -> str:
    """A plain insert: a newborn has no rows to conflict with (an event of a server's
    comes after its request, so no row of it comes before the request's fold, and the
    server had no ``servers`` row before this run). Checking for a conflict each row
    anyway took about a third of these inserts' time (docs/benchmarks.md, session 9);
    were there one, the batch would fail rather than fold wrongly."""
    return f"INSERT INTO {table} ({', '.join(columns)}) SELECT * FROM {unnest(**columns)}"


_INSERT_ACTIONS = _insert("instance_actions", _ACTION_COLUMNS)
_INSERT_STEPS = _insert("instance_action_events", _STEP_COLUMNS)


def _when(timestamp: str) -> datetime:
    return datetime.fromisoformat(timestamp)


class _Action:
    __slots__ = ("request_id", "action", "user_id", "project_id", "start_time",
                 "updated_at", "updated_when", "started_by")

    def __init__(self, request_id: str, action: str, user_id: Any, project_id: Any,
                 at: str, started_by: int) -> None:
        self.request_id, self.action = request_id, action
        self.user_id, self.project_id = user_id, project_id
        self.start_time = self.updated_at = at
        self.updated_when = _when(at)
        self.started_by = started_by

    def row(self, server: str) -> tuple:
        """The action's row; no event of NAMES fails, so it has no message."""
        return (server, self.request_id, self.action, self.user_id, self.project_id,
                self.start_time, self.updated_at, None, self.started_by)


class _Step:
    __slots__ = ("request_id", "event", "start_time", "finish_time", "result", "host",
                 "started_by", "finished_by")

    def __init__(self, request_id: str, event: str, start_time: str, host: str | None,
                 started_by: int) -> None:
        self.request_id, self.event, self.start_time = request_id, event, start_time
        self.host, self.started_by = host, started_by
        self.finish_time: str | None = None
        self.result: str | None = None
        self.finished_by: int | None = None

    def end(self, at: str, result: str, by: int, agent: str | None) -> None:
        self.finish_time, self.result, self.finished_by = at, result, by
        self.host = agent if self.host is None else self.host

    def row(self, server: str) -> tuple:
        """The step's row; no event of NAMES fails, so it has no details or traceback."""
        return (server, self.request_id, self.event, self.start_time, self.finish_time,
                self.result, self.host, None, None, self.started_by, self.finished_by)


class _Plan(NamedTuple):
    """What one event name does to a newborn's rows, worked out once per name."""

    change: folds.ServerChange | None  # to the servers row (None: the request)
    scheduled: bool  # its host is the zone's
    action: str | None  # the action it begins, if it is one of ACTIONS
    step: Step | None
    # The shape of its step statement (action_steps.statement) when the event names a
    # host and when it does not (see instance_actions.shape_of); None: it moves none.
    hosted: Shape | None
    unhosted: Shape | None


def _plan(name: str) -> _Plan:
    def moving(shape: Shape | None) -> Shape | None:
        return None if shape is None or statement(shape) is None else shape
    step = STEPS.get(name)
    return _Plan(
        None if name == REQUESTED else folds.SERVER_CHANGES[name],
        name == "InstanceScheduled", ACTIONS.get(name), step,
        None if step is None else moving(instance_actions.shape(name, True)),
        None if step is None else moving(instance_actions.shape(name, False)))


_PLANS = {name: _plan(name) for name in NAMES}


class _Server:
    """One newborn server's rows, as its events so far leave them."""

    __slots__ = ("row", "zone_host", "actions", "steps")

    def __init__(self, env: Envelope) -> None:
        self.row = folds.requested_row(env)
        self.zone_host: str | None = None
        self.actions: list[_Action] = []
        self.steps: list[_Step] = []

    def fold(self, env: Envelope) -> None:
        plan = _PLANS[env.event]
        change = plan.change
        if change is not None:
            folds.changed(self.row, change, env)
            if plan.scheduled:
                self.zone_host = env.data.host  # type: ignore[attr-defined]
        # The action an event of ACTIONS begins (or belongs to, if begun already).
        request = None
        if plan.action is not None:
            request = instance_actions.request_id_of(env)
            self._begin(env, request, plan.action)
        if plan.step is not None:
            shape = plan.hosted if instance_actions.hosted(env) else plan.unhosted
            if shape is not None:
                self._move_steps(env, request, plan.step, shape)

    def _begin(self, env: Envelope, request: str, action: str) -> None:
        """instance_actions._BEGIN: the first event of a request starts its action."""
        for begun in self.actions:
            if begun.request_id == request:
                return
        user = getattr(env.data, "user_id", None) or env.actor.user_id
        project = getattr(env.data, "project_id", None) or env.actor.project_id
        self.actions.append(_Action(
            request, action, self.row["user_id"] if user is None else user,
            self.row["project_id"] if project is None else project, env.timestamp,
            env.version))

    def _move_steps(self, env: Envelope, named: str | None, step: Step,
                    shape: Shape) -> None:
        """action_steps.statement(shape) for this event, whose parts all read the rows
        as they were before it. None of NAMES fails or records a fallback step (see
        ``test_fold_equivalence``), so those parts are not here. (Loops, not max() with
        a key: this runs for most events of a replay.)"""
        version, at = env.version, env.timestamp
        if shape.latest:  # the request's own action first, else the latest begun before
            own, request, mine, latest = env.request_id, None, False, -1
            for action in self.actions:
                begun = action.started_by
                if begun < version:
                    is_own = action.request_id == own
                    if is_own > mine or (is_own == mine and begun > latest):
                        request, mine, latest = action.request_id, is_own, begun
            if request is None:
                return
        else:
            request = named
        touched = None
        if shape.finishes:  # the latest unfinished step it ends, its request's first
            ended, mine, latest = None, False, -1
            finishes = step.finishes
            for candidate in self.steps:
                begun, finished = candidate.started_by, candidate.finished_by
                if (begun < version and (finished is None or finished == version)
                        and candidate.event in finishes):
                    is_own = candidate.request_id == request
                    if is_own > mine or (is_own == mine and begun > latest):
                        ended, mine, latest = candidate, is_own, begun
            if ended is None:
                touched = request
            else:
                ended.end(at, step.result, version, env.actor.agent)
                touched = ended.request_id
        if shape.opens:
            opens = step.opens
            for candidate in self.steps:
                if candidate.started_by == version and candidate.event == opens:
                    break
            else:
                host = getattr(env.data, "host", "") or None
                self.steps.append(_Step(request, opens, at, host, version))  # type: ignore
            if touched is not None and touched != request:  # two actions' steps moved
                self._touch(touched, at)
            touched = request
        if touched is not None:
            self._touch(touched, at)

    def _touch(self, request: str | None, at: str) -> None:
        """The action whose steps moved takes the time, if it is later."""
        when = None
        for action in self.actions:
            if action.request_id == request:
                if when is None:
                    when = _when(at)
                if when > action.updated_when:
                    action.updated_at, action.updated_when = at, when


class Newborns:
    """The servers requested in one run of set-wise events (see setwise.segments),
    folded here; ``fold_of`` gives every event of the run the set-wise fold it still
    needs (None: none left)."""

    def __init__(self, run: list[Recorded], setwise: dict[str, SetFold],
                 rest: dict[str, SetFold], known: set[str] | None = None) -> None:
        """``known``: servers that may have rows already (see ``known``); the servers
        requested in this run are added to it."""
        self._setwise, self._rest = setwise, rest
        self.servers = _newborn(run, set() if known is None else known)
        self._folded: dict[str, _Server] = {}
        for record in run:
            env = record.envelope
            if env.id in self.servers:
                if env.event == REQUESTED:
                    self._folded[env.id] = _Server(env)
                self._folded[env.id].fold(env)

    def fold_of(self, record: Recorded) -> SetFold | None:
        env = record.envelope
        if env.id in self.servers:
            fold = self._rest.get(env.event)
            if fold is None or fold.needs is None or fold.needs(env):
                return fold
            return None  # e.g. a request with no scheduler hints: nothing left to fold
        return self._setwise.get(env.event)

    def write(self, cur: Cursor) -> None:
        """Insert the newborns' rows (after the run's statements: none of them reads
        these rows)."""
        if not self._folded:
            return
        servers = self._folded.items()
        folds.insert_servers(cur, [(server.row, server.zone_host) for _, server in servers],
                             new=True)
        actions = [a.row(id) for id, server in servers for a in server.actions]
        if actions:
            cur.execute(_INSERT_ACTIONS, transposed(actions))
        steps = [s.row(id) for id, server in servers for s in server.steps]
        if steps:
            cur.execute(_INSERT_STEPS, transposed(steps))


def known(cur: Cursor, records: list[Recorded]) -> set[str]:
    """The servers requested in records that have a row already: a request appended
    again, or a log folded again. Read before a batch's first statement (a round trip
    only when the batch holds a request)."""
    requested = [r.envelope.id for r in records if r.envelope.event == REQUESTED]
    if not requested:
        return set()
    found = {server for (server,) in cur.execute(
        "SELECT id::text FROM servers WHERE id = ANY(%s::uuid[])", (requested,))}
    return {server for server in requested if server.lower() in found}


def remembered(records: list[Recorded], seen: set[str]) -> set[str]:
    """``known`` without asking the database, for a fold that nothing else writes into
    at the same time (rebuild.fold_batches): ``seen`` holds, in canonical form, every
    server that may have a row (those that had one when the fold began, and every one
    requested since), and learns the servers requested in records."""
    requested = [r.envelope.id for r in records if r.envelope.event == REQUESTED]
    found = {server for server in requested if server.lower() in seen}
    seen.update(server.lower() for server in requested)
    return found


def _newborn(run: list[Recorded], known: set[str]) -> set[str]:
    """The servers of a run that are folded here (see the module's docstring)."""
    seen: dict[str, list[str]] = {}
    for record in run:
        seen.setdefault(record.envelope.id, []).append(record.envelope.event)
    newborn = {server for server, names in seen.items()
               if names[0] == REQUESTED and names.count(REQUESTED) == 1
               and names.count("InstanceScheduled") <= 1 and NAMES.issuperset(names)
               and server not in known}
    known.update(server for server, names in seen.items() if REQUESTED in names)
    return newborn
