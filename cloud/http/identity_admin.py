"""Keystone's admin API as ``openstack project/user/role ...`` uses it: the default
domain, projects, users, roles, grants and role assignments.

Everything is for admins, except reading yourself: your user, your token's project,
your own role assignments and projects.
"""

from typing import Any

from litestar import Request, delete, get, patch, post
from litestar.params import FromPath, RawBody

from cloud.domain import identity as idm
from cloud.domain.envelope import Actor, Context
from cloud.http import identity_schemas as schemas
from cloud.http import identity_views as views
from cloud.http.context import request_id
from cloud.http.faults import Forbidden, ItemNotFound
from cloud.http.identity_auth import Keystone, KeystoneDep, is_admin
from cloud.services import identity
from cloud.services.auth import Validated
from cloud.util import utcnow

JSON = dict[str, Any]
FORBIDDEN = "You are not authorized to perform the requested action."


def admin_caller(request: Request, keystone: Keystone) -> Validated:
    """The caller, who must be an admin (403 otherwise, 401 without a token)."""
    caller = keystone.caller(request.headers)
    if not is_admin(caller):
        raise Forbidden(FORBIDDEN)
    return caller


def admin_or_self(request: Request, keystone: Keystone, *, user_id: str | None = None,
              project_id: str | None = None) -> Validated:
    """The caller, who must be an admin or be reading its own user or project."""
    caller = keystone.caller(request.headers)
    own = (user_id is not None and user_id == caller.payload.user_id) or (
        project_id is not None and project_id == caller.payload.project_id)
    if not (own or is_admin(caller)):
        raise Forbidden(FORBIDDEN)
    return caller


def caller_context(request: Request, caller: Validated) -> Context:
    return Context(request_id=request_id(request.scope),  # type: ignore[arg-type]
                   actor=Actor(user_id=caller.payload.user_id,
                               project_id=caller.payload.project_id),
                   timestamp=utcnow())


def found_or_404(row: JSON | None, kind: str, key: str) -> JSON:
    if row is None:
        raise ItemNotFound(f"Could not find {kind}: {key}.")
    return row


# --- domains (only the default one) ----------------------------------------------------


@get("/v3/domains", sync_to_thread=True)
def list_domains(request: Request, keystone: KeystoneDep) -> JSON:
    keystone.caller(request.headers)
    name = request.query_params.get("name")
    matches = name in (None, idm.DEFAULT_DOMAIN_NAME)
    return views.collection(keystone.v3, "domains",
                            [views.domain(keystone.v3)] if matches else [])


@get("/v3/domains/{domain_id:str}", sync_to_thread=True)
def show_domain(request: Request, keystone: KeystoneDep, domain_id: FromPath[str]) -> JSON:
    keystone.caller(request.headers)
    if domain_id != idm.DEFAULT_DOMAIN_ID:
        raise ItemNotFound(f"Could not find domain: {domain_id}.")
    return {"domain": views.domain(keystone.v3)}


# --- projects --------------------------------------------------------------------------


def _filters(request: Request) -> dict[str, Any]:
    params = request.query_params
    enabled = params.get("enabled")
    return {"name": params.get("name"), "domain_id": params.get("domain_id"),
            "enabled": None if enabled is None else enabled.lower() in ("1", "true", "yes")}


def _project(keystone: Keystone, project_id: str) -> JSON:
    row = found_or_404(keystone.queries.project(project_id), "project", project_id)
    return {"project": views.project(keystone.v3, row)}


@get("/v3/projects", sync_to_thread=True)
def list_projects(request: Request, keystone: KeystoneDep) -> JSON:
    admin_caller(request, keystone)
    rows = keystone.queries.projects(**_filters(request))
    return views.collection(keystone.v3, "projects",
                            [views.project(keystone.v3, row) for row in rows])


@post("/v3/projects", status_code=201, sync_to_thread=True)
def create_project(request: Request, keystone: KeystoneDep, body: RawBody) -> JSON:
    caller = admin_caller(request, keystone)
    new = schemas.decode(body, "project", schemas.ProjectCreate)
    project_id, positions = identity.create_project(
        keystone.store, name=new.name, domain_id=new.domain_id or idm.DEFAULT_DOMAIN_ID,
        description=new.description, enabled=new.enabled,
        context=caller_context(request, caller))
    keystone.wait(positions)
    return _project(keystone, project_id)


@get("/v3/projects/{project_id:str}", sync_to_thread=True)
def show_project(request: Request, keystone: KeystoneDep, project_id: FromPath[str]) -> JSON:
    admin_or_self(request, keystone, project_id=project_id)
    return _project(keystone, project_id)


@patch("/v3/projects/{project_id:str}", sync_to_thread=True)
def update_project(request: Request, keystone: KeystoneDep, project_id: FromPath[str],
                   body: RawBody) -> JSON:
    caller = admin_caller(request, keystone)
    changes = schemas.changes(schemas.decode(body, "project", schemas.ProjectUpdate))
    keystone.wait(identity.update_project(keystone.store, project_id,
                                          context=caller_context(request, caller), **changes))
    return _project(keystone, project_id)


@delete("/v3/projects/{project_id:str}", status_code=204, sync_to_thread=True)
def delete_project(request: Request, keystone: KeystoneDep, project_id: FromPath[str]) -> None:
    caller = admin_caller(request, keystone)
    keystone.wait(identity.delete_project(keystone.store, project_id,
                                          context=caller_context(request, caller)))


# --- users -----------------------------------------------------------------------------


def _user(keystone: Keystone, user_id: str) -> JSON:
    row = found_or_404(keystone.queries.user(user_id), "user", user_id)
    return {"user": views.user(keystone.v3, row)}


@get("/v3/users", sync_to_thread=True)
def list_users(request: Request, keystone: KeystoneDep) -> JSON:
    admin_caller(request, keystone)
    rows = keystone.queries.users(**_filters(request))
    return views.collection(keystone.v3, "users", [views.user(keystone.v3, r) for r in rows])


@post("/v3/users", status_code=201, sync_to_thread=True)
def create_user(request: Request, keystone: KeystoneDep, body: RawBody) -> JSON:
    caller = admin_caller(request, keystone)
    new = schemas.decode(body, "user", schemas.UserCreate)
    user_id, positions = identity.create_user(
        keystone.store, keystone.credentials, name=new.name, password=new.password,
        domain_id=new.domain_id or idm.DEFAULT_DOMAIN_ID, enabled=new.enabled,
        default_project_id=new.default_project_id, email=new.email,
        description=new.description, context=caller_context(request, caller))
    keystone.wait(positions)
    return _user(keystone, user_id)


@get("/v3/users/{user_id:str}", sync_to_thread=True)
def show_user(request: Request, keystone: KeystoneDep, user_id: FromPath[str]) -> JSON:
    admin_or_self(request, keystone, user_id=user_id)
    return _user(keystone, user_id)


@patch("/v3/users/{user_id:str}", sync_to_thread=True)
def update_user(request: Request, keystone: KeystoneDep, user_id: FromPath[str],
                body: RawBody) -> JSON:
    caller = admin_caller(request, keystone)
    changes = schemas.changes(schemas.decode(body, "user", schemas.UserUpdate))
    keystone.wait(identity.update_user(keystone.store, keystone.credentials, user_id,
                                       context=caller_context(request, caller), **changes))
    return _user(keystone, user_id)


@delete("/v3/users/{user_id:str}", status_code=204, sync_to_thread=True)
def delete_user(request: Request, keystone: KeystoneDep, user_id: FromPath[str]) -> None:
    caller = admin_caller(request, keystone)
    keystone.wait(identity.delete_user(keystone.store, keystone.credentials, user_id,
                                       context=caller_context(request, caller)))


@get("/v3/users/{user_id:str}/projects", sync_to_thread=True)
def list_user_projects(request: Request, keystone: KeystoneDep,
                       user_id: FromPath[str]) -> JSON:
    admin_or_self(request, keystone, user_id=user_id)
    rows = keystone.queries.projects_of(user_id)
    return views.collection(keystone.v3, "projects",
                            [views.project(keystone.v3, row) for row in rows])


HANDLERS = [list_domains, show_domain, list_projects, create_project, show_project,
            update_project, delete_project, list_users, create_user, show_user, update_user,
            delete_user, list_user_projects]
