"""``POST /servers/{id}/action``: one body key names the action; each is a row below."""

from collections.abc import Callable
from typing import Any

import msgspec
from litestar import Request, Response, post
from litestar.params import FromPath, RawBody

from cloud.domain.lifecycle import RESETTABLE
from cloud.http import console_output, microversions, policy, server_groups, servers
from cloud.http import server_requests_late
from cloud.http.context import Backend, BackendDep, identity, service_context
from cloud.http.faults import BadRequest, ItemNotFound
from cloud.projections.aggregate_queries import AggregateQueries
from cloud.projections.quota_queries import QuotaQueries
from cloud.services import server_actions

Row = dict[str, Any]
# An action handler: (request, backend, server row, the action's body) -> response.
Handler = Callable[[Request, Backend, Row, Any], Response[Any]]


def _accepted(backend: Backend, positions: list[int], status: int = 202) -> Response[Any]:
    servers._wait(backend, positions)
    return Response(None, status_code=status)


def _simple(name: str) -> Handler:
    """Actions with no arguments that a host carries out (stop, start, pause…)."""
    def handle(request: Request, backend: Backend, row: Row, _body: Any) -> Response[Any]:
        return _accepted(backend, server_actions.act(
            backend.store, row["id"], name, context=service_context(request),
            is_admin=identity(request).is_admin))
    return handle


def _reboot(request: Request, backend: Backend, row: Row, body: Any) -> Response[Any]:
    kind = body.get("type") if isinstance(body, dict) else None
    if not isinstance(kind, str) or kind.upper() not in ("SOFT", "HARD"):
        raise BadRequest(f"Invalid input for field/attribute type. Value: {kind}."
                         " It must be one of SOFT or HARD.")
    name = "reboot_hard" if kind.upper() == "HARD" else "reboot"
    return _simple(name)(request, backend, row, body)


def _lock(request: Request, backend: Backend, row: Row, body: Any) -> Response[Any]:
    reason = None
    if body is not None:
        version = microversions.negotiated(request.scope)
        if version < (2, 73) or not isinstance(body, dict) or set(body) - {"locked_reason"}:
            raise BadRequest("Invalid input for field/attribute lock.")
        reason = body.get("locked_reason")
        if reason is not None and (not isinstance(reason, str) or len(reason) > 255):
            raise BadRequest("Invalid input for field/attribute locked_reason.")
    return _accepted(backend, server_actions.lock(
        backend.store, row["id"], reason=reason, context=service_context(request),
        is_admin=identity(request).is_admin))


def _unlock(request: Request, backend: Backend, row: Row, _body: Any) -> Response[Any]:
    return _accepted(backend, server_actions.unlock(
        backend.store, row["id"], context=service_context(request),
        is_admin=identity(request).is_admin))


def _reset_state(request: Request, backend: Backend, row: Row, body: Any) -> Response[Any]:
    state = body.get("state") if isinstance(body, dict) else None
    if state not in RESETTABLE:
        raise BadRequest(f"Invalid input for field/attribute state. Value: {state}."
                         " It must be one of active or error.")
    return _accepted(backend, server_actions.reset_state(
        backend.store, row["id"], state=state, context=service_context(request)))


def _force_delete(request: Request, backend: Backend, row: Row, _body: Any) -> Response[Any]:
    return _accepted(backend, server_actions.delete(
        backend.store, row["id"], context=service_context(request),
        is_admin=identity(request).is_admin))


def _resize(request: Request, backend: Backend, row: Row, body: Any) -> Response[Any]:
    flavor_ref = body.get("flavorRef") if isinstance(body, dict) else None
    if not isinstance(flavor_ref, str | int) or isinstance(flavor_ref, bool):
        raise BadRequest("Invalid input for field/attribute flavorRef.")
    flavor = servers._flavor_spec(backend, flavor_ref)
    return _accepted(backend, server_actions.resize(
        backend.store, row["id"], flavor=flavor, context=service_context(request),
        is_admin=identity(request).is_admin,
        aggregates=AggregateQueries(backend.read_models.pool)))


def _confirm_resize(request: Request, backend: Backend, row: Row, _body: Any,
                    ) -> Response[Any]:
    return _accepted(backend, server_actions.confirm_resize(
        backend.store, row["id"], context=service_context(request),
        is_admin=identity(request).is_admin), status=204)


def _revert_resize(request: Request, backend: Backend, row: Row, _body: Any,
                   ) -> Response[Any]:
    return _accepted(backend, server_actions.revert_resize(
        backend.store, row["id"], context=service_context(request),
        is_admin=identity(request).is_admin))


def _rebuild(request: Request, backend: Backend, row: Row, body: Any) -> Response[Any]:
    if not isinstance(body, dict) or not isinstance(body.get("imageRef"), str):
        raise BadRequest("Invalid input for field/attribute imageRef.")
    name = body.get("name")
    if name is not None and (not isinstance(name, str) or not name.strip()
                             or len(name) > 255):
        raise BadRequest("Invalid input for field/attribute name.")
    version = microversions.negotiated(request.scope)
    caller = identity(request)
    changes = server_requests_late.rebuild_changes(
        body, version, lambda key: QuotaQueries(backend.read_models.pool).keypair(
            caller.user_id, key) is not None)
    image_ref = servers._image_id(backend, body["imageRef"])
    positions = server_actions.rebuild(
        backend.store, row["id"], image_ref=image_ref, name=name,
        context=service_context(request), is_admin=caller.is_admin, **changes)
    servers._wait(backend, positions)
    shown = backend.read_models.server(row["id"]) or row
    # From 2.75 the rebuild answer is the show answer (groups from 2.71 included).
    detail = server_requests_late.rebuild_view(servers._detail(
        request, backend, server_groups.with_groups(backend, shown, version)), version,
        user_data=shown["user_data"])
    detail["adminPass"] = body.get("adminPass") or servers._password()
    return Response({"server": detail}, status_code=202)


# body key -> (policy rule, handler)
ACTIONS: dict[str, tuple[str, Handler]] = {
    "os-stop": ("os_compute_api:servers:stop", _simple("stop")),
    "os-start": ("os_compute_api:servers:start", _simple("start")),
    "reboot": ("os_compute_api:servers:reboot", _reboot),
    "pause": ("os_compute_api:os-pause-server:pause", _simple("pause")),
    "unpause": ("os_compute_api:os-pause-server:unpause", _simple("unpause")),
    "suspend": ("os_compute_api:os-suspend-server:suspend", _simple("suspend")),
    "resume": ("os_compute_api:os-suspend-server:resume", _simple("resume")),
    "lock": ("os_compute_api:os-lock-server:lock", _lock),
    "unlock": ("os_compute_api:os-lock-server:unlock", _unlock),
    "resize": ("os_compute_api:servers:resize", _resize),
    "confirmResize": ("os_compute_api:servers:confirm_resize", _confirm_resize),
    "revertResize": ("os_compute_api:servers:revert_resize", _revert_resize),
    "rebuild": ("os_compute_api:servers:rebuild", _rebuild),
    "os-resetState": ("os_compute_api:os-admin-actions:reset_state", _reset_state),
    "forceDelete": ("os_compute_api:os-deferred-delete:force", _force_delete),
    "os-getConsoleOutput": ("os_compute_api:os-console-output",
                            console_output.get_console_output),
}


def _decode(body: bytes) -> tuple[str, Any]:
    try:
        document = msgspec.json.decode(body) if body else None
    except msgspec.DecodeError:
        raise BadRequest("Malformed request body") from None
    if not isinstance(document, dict) or len(document) != 1:
        raise BadRequest("Malformed request body: one action expected.")
    return next(iter(document.items()))


@post("/servers/{server_id:str}/action", sync_to_thread=True)
def server_action(request: Request, backend: BackendDep, server_id: FromPath[str],
                  body: RawBody) -> Response[Any]:
    """Run one action on a server (202 unless the action says otherwise)."""
    name, argument = _decode(body)
    if name not in ACTIONS:
        raise ItemNotFound(f"There is no such action: {name}")
    rule, handle = ACTIONS[name]
    row = backend.read_models.server(server_id)
    missing = f"Instance {server_id} could not be found."
    if row is None or row["vm_state"] == "deleted":
        raise ItemNotFound(missing)
    policy.authorize(identity(request), rule, project_id=row["project_id"], hide=missing)
    return handle(request, backend, row, argument)


HANDLERS = [server_action]
