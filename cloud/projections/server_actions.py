"""How server actions change the ``servers`` read model (task, states, lock, flavors)."""

from psycopg import Cursor

from cloud.domain import events as ev
from cloud.domain import lifecycle, rebuild, states
from cloud.domain.envelope import Envelope
from cloud.projections.folds import Fold, _json, _touch

DDL = """
ALTER TABLE servers
    ADD COLUMN IF NOT EXISTS locked boolean NOT NULL DEFAULT false,
    ADD COLUMN IF NOT EXISTS locked_reason text,
    ADD COLUMN IF NOT EXISTS locked_by text,
    ADD COLUMN IF NOT EXISTS pending_flavor jsonb,
    ADD COLUMN IF NOT EXISTS old_flavor jsonb,
    ADD COLUMN IF NOT EXISTS trusted_image_certificates jsonb;
"""
# Rebuild fields stored as JSON in the servers table.
_JSON_FIELDS = frozenset({"metadata", "trusted_image_certificates"})


def requested(cur: Cursor, env: Envelope) -> None:
    e: ev.InstanceActionRequested = env.data  # type: ignore[assignment]
    if isinstance(e, ev.InstanceResizeRequested):
        _touch(cur, env, "task_state = %s, pending_flavor = %s", lifecycle.task_of(e),
               _json(e.flavor).decode())
    elif isinstance(e, ev.InstanceRebuildRequested):
        _rebuild_requested(cur, env, e)
    else:
        _touch(cur, env, "task_state = %s", lifecycle.task_of(e))


def _rebuild_requested(cur: Cursor, env: Envelope, e: ev.InstanceRebuildRequested) -> None:
    """Nova applies a rebuild's name, key, user data, hostname… when it is asked for."""
    fields = rebuild.changes(e)
    columns = ", ".join(f"{name} = %s" for name in fields)
    values = [_json(value).decode() if name in _JSON_FIELDS and value is not None
              else value for name, value in fields.items()]
    _touch(cur, env, f"task_state = %s, {columns}", lifecycle.task_of(e), *values)


def done(cur: Cursor, env: Envelope) -> None:
    e: ev.InstanceActionDone = env.data  # type: ignore[assignment]
    _touch(cur, env, "vm_state = %s, task_state = NULL, power_state = %s",
           lifecycle.vm_state_after(e), e.power_state)
    match e:
        case ev.InstanceRebuilt(image_ref=image_ref):
            _touch(cur, env, "image_ref = %s", image_ref)
        case ev.InstanceResized():
            _touch(cur, env, "old_flavor = flavor, flavor = coalesce(pending_flavor, flavor),"
                             " pending_flavor = NULL")
        case ev.InstanceResizeReverted():
            _touch(cur, env, "flavor = coalesce(old_flavor, flavor), old_flavor = NULL")


def failed(cur: Cursor, env: Envelope) -> None:
    e: ev.InstanceActionFailed = env.data  # type: ignore[assignment]
    fault = {"code": e.fault.code, "message": e.fault.message, "details": e.fault.details,
             "created": env.timestamp}
    _touch(cur, env, "vm_state = %s, task_state = NULL, pending_flavor = NULL, fault = %s",
           e.vm_state, _json(fault).decode())


def resize_confirmed(cur: Cursor, env: Envelope) -> None:
    _touch(cur, env, "old_flavor = NULL, vm_state = CASE WHEN power_state = %s THEN %s"
                     " ELSE %s END", states.RUNNING, states.ACTIVE, states.STOPPED)


def locked(cur: Cursor, env: Envelope) -> None:
    e: ev.InstanceLocked = env.data  # type: ignore[assignment]
    _touch(cur, env, "locked = true, locked_reason = %s, locked_by = %s", e.reason, e.by)


def unlocked(cur: Cursor, env: Envelope) -> None:
    _touch(cur, env, "locked = false, locked_reason = NULL, locked_by = NULL")


def state_reset(cur: Cursor, env: Envelope) -> None:
    e: ev.InstanceStateReset = env.data  # type: ignore[assignment]
    _touch(cur, env, "vm_state = %s, task_state = NULL", e.vm_state)


def power_observed(cur: Cursor, env: Envelope) -> None:
    e: ev.InstancePowerObserved = env.data  # type: ignore[assignment]
    _touch(cur, env, "vm_state = %s, power_state = %s", e.vm_state, e.power_state)


FOLDS: dict[str, Fold] = {
    **{a.requested.__name__: requested for a in lifecycle.ACTIONS.values()},
    **{kind.__name__: done for kind in lifecycle.VM_STATE_AFTER},
    "InstanceActionFailed": failed,
    "InstanceResizeConfirmed": resize_confirmed,
    "InstanceLocked": locked,
    "InstanceUnlocked": unlocked,
    "InstanceStateReset": state_reset,
    "InstancePowerObserved": power_observed,
}
