"""Keystone's roles, grants of a role on a project, and role assignments (admins only,
except listing your own assignments)."""

from typing import Any

from litestar import Request, delete, get, head, put
from litestar.params import FromPath

from cloud.http import identity_views as views
from cloud.http.faults import Forbidden, ItemNotFound
from cloud.http.identity_admin import FORBIDDEN, admin_caller, caller_context, found_or_404
from cloud.http.identity_auth import Keystone, KeystoneDep, is_admin
from cloud.services import identity

JSON = dict[str, Any]
GRANT = "/v3/projects/{project_id:str}/users/{user_id:str}/roles/{role_id:str}"


@get("/v3/roles", sync_to_thread=True)
def list_roles(request: Request, keystone: KeystoneDep) -> JSON:
    admin_caller(request, keystone)
    rows = keystone.queries.roles(name=request.query_params.get("name"))
    return views.collection(keystone.v3, "roles", [views.role(keystone.v3, r) for r in rows])


@get("/v3/roles/{role_id:str}", sync_to_thread=True)
def show_role(request: Request, keystone: KeystoneDep, role_id: FromPath[str]) -> JSON:
    admin_caller(request, keystone)
    row = found_or_404(keystone.queries.role(role_id), "role", role_id)
    return {"role": views.role(keystone.v3, row)}


@put(GRANT, status_code=204, sync_to_thread=True)
def grant_role(request: Request, keystone: KeystoneDep, project_id: FromPath[str],
               user_id: FromPath[str], role_id: FromPath[str]) -> None:
    caller = admin_caller(request, keystone)
    keystone.wait(identity.grant_role(keystone.store, user_id=user_id, project_id=project_id,
                                      role_id=role_id, context=caller_context(request, caller)))


def _check(request: Request, keystone: Keystone, project_id: str, user_id: str,
           role_id: str) -> None:
    admin_caller(request, keystone)
    if not keystone.queries.assignments(user_id=user_id, project_id=project_id,
                                        role_id=role_id):
        raise ItemNotFound(f"Could not find role assignment: {role_id} on project"
                           f" {project_id} for user {user_id}.")


@head(GRANT, status_code=204, sync_to_thread=True)
def check_grant(request: Request, keystone: KeystoneDep, project_id: FromPath[str],
                user_id: FromPath[str], role_id: FromPath[str]) -> None:
    _check(request, keystone, project_id, user_id, role_id)


@get(GRANT, status_code=204, sync_to_thread=True)
def show_grant(request: Request, keystone: KeystoneDep, project_id: FromPath[str],
               user_id: FromPath[str], role_id: FromPath[str]) -> None:
    _check(request, keystone, project_id, user_id, role_id)


@delete(GRANT, status_code=204, sync_to_thread=True)
def revoke_role(request: Request, keystone: KeystoneDep, project_id: FromPath[str],
                user_id: FromPath[str], role_id: FromPath[str]) -> None:
    caller = admin_caller(request, keystone)
    keystone.wait(identity.revoke_role(keystone.store, user_id=user_id,
                                       project_id=project_id, role_id=role_id,
                                       context=caller_context(request, caller)))


@get("/v3/projects/{project_id:str}/users/{user_id:str}/roles", sync_to_thread=True)
def list_grants(request: Request, keystone: KeystoneDep, project_id: FromPath[str],
                user_id: FromPath[str]) -> JSON:
    admin_caller(request, keystone)
    rows = keystone.queries.assignments(user_id=user_id, project_id=project_id)
    roles = [{"id": r["role_id"], "name": r["role_name"]} for r in rows]
    return views.collection(keystone.v3, "roles", [views.role(keystone.v3, r) for r in roles])


@get("/v3/role_assignments", sync_to_thread=True)
def list_assignments(request: Request, keystone: KeystoneDep) -> JSON:
    """Filters ``user.id``, ``scope.project.id``, ``role.id``; ``include_names``."""
    params = request.query_params
    caller = keystone.caller(request.headers)
    user_id = params.get("user.id")
    if not is_admin(caller) and user_id != caller.payload.user_id:
        raise Forbidden(FORBIDDEN)
    rows = keystone.queries.assignments(user_id=user_id,
                                        project_id=params.get("scope.project.id"),
                                        role_id=params.get("role.id"))
    names = params.get("include_names", "false").lower() not in ("0", "false", "no")
    return views.collection(keystone.v3, "role_assignments",
                            [views.assignment(keystone.v3, r, names=names) for r in rows])


HANDLERS = [list_roles, show_role, grant_role, check_grant, show_grant, revoke_role,
            list_grants, list_assignments]
