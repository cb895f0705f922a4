"""A flavor's extra specs (``/flavors/{id}/os-extra_specs``: readers read, admins write)
and its project access (``/flavors/{id}/os-flavor-access`` and the ``addTenantAccess`` /
``removeTenantAccess`` actions, admins only)."""

from typing import Any

import msgspec
from litestar import Request, Response, delete, get, post, put
from litestar.params import FromPath, RawBody

from cloud.domain.flavor import ExtraSpecNotFound
from cloud.http import extra_spec_rules, flavor_schemas, policy
from cloud.http.context import Backend, BackendDep, identity, service_context
from cloud.http.faults import BadRequest, ItemNotFound
from cloud.http.flavors import visible_flavor, wait
from cloud.http.microversions import APIVersion, negotiated
from cloud.projections.flavor_queries import FlavorQueries
from cloud.services import flavors

SPECS = "os_compute_api:os-flavor-extra-specs:"
ACCESS = "os_compute_api:os-flavor-access"
V2_7, V2_86 = APIVersion(2, 7), APIVersion(2, 86)


def _validated(request: Request, specs: dict[str, str]) -> dict[str, str]:
    """From 2.86 known extra specs are checked (unknown keys of known namespaces: 400)."""
    if negotiated(request.scope) >= V2_86:
        extra_spec_rules.validate_all(specs)
    return specs


def _specs_of(request: Request, backend: Backend, flavor_id: str,
              action: str) -> dict[str, str]:
    caller = identity(request)
    policy.authorize(caller, SPECS + action)
    return visible_flavor(backend, caller, flavor_id)["extra_specs"]


# --- extra specs ------------------------------------------------------------------------


@get("/flavors/{flavor_id:str}/os-extra_specs", sync_to_thread=True)
def list_extra_specs(request: Request, backend: BackendDep,
                     flavor_id: FromPath[str]) -> dict[str, Any]:
    return {"extra_specs": _specs_of(request, backend, flavor_id, "index")}


@get("/flavors/{flavor_id:str}/os-extra_specs/{key:str}", sync_to_thread=True)
def show_extra_spec(request: Request, backend: BackendDep, flavor_id: FromPath[str],
                    key: FromPath[str]) -> dict[str, Any]:
    specs = _specs_of(request, backend, flavor_id, "show")
    if key not in specs:
        raise ExtraSpecNotFound(flavor_id, key)
    return {key: specs[key]}


@post("/flavors/{flavor_id:str}/os-extra_specs", status_code=200, sync_to_thread=True)
def create_extra_specs(request: Request, backend: BackendDep, flavor_id: FromPath[str],
                       body: RawBody) -> dict[str, Any]:
    """Add or change some keys (200 with the keys given, values as stored)."""
    policy.authorize(identity(request), SPECS + "create")
    specs = _validated(request, flavor_schemas.parse_extra_specs(body))
    visible_flavor(backend, identity(request), flavor_id)
    wait(backend, flavors.set_extra_specs(backend.store, flavor_id, specs,
                                          context=service_context(request)))
    return {"extra_specs": specs}


@put("/flavors/{flavor_id:str}/os-extra_specs/{key:str}", sync_to_thread=True)
def update_extra_spec(request: Request, backend: BackendDep, flavor_id: FromPath[str],
                      key: FromPath[str], body: RawBody) -> dict[str, Any]:
    """Set one key; the body names exactly that key (400 otherwise)."""
    policy.authorize(identity(request), SPECS + "update")
    spec = _validated(request, flavor_schemas.parse_extra_spec(body, key))
    visible_flavor(backend, identity(request), flavor_id)
    wait(backend, flavors.set_extra_specs(backend.store, flavor_id, spec,
                                          context=service_context(request)))
    return spec


@delete("/flavors/{flavor_id:str}/os-extra_specs/{key:str}", status_code=200,
        sync_to_thread=True)
def delete_extra_spec(request: Request, backend: BackendDep, flavor_id: FromPath[str],
                      key: FromPath[str]) -> Response[bytes]:
    """Remove one key (200 with no body, as Nova answers)."""
    policy.authorize(identity(request), SPECS + "delete")
    visible_flavor(backend, identity(request), flavor_id)
    wait(backend, flavors.delete_extra_spec(backend.store, flavor_id, key,
                                            context=service_context(request)))
    return Response(content=b"", status_code=200)


# --- access -----------------------------------------------------------------------------


def _access_list(backend: Backend, flavor_id: str) -> dict[str, Any]:
    projects = FlavorQueries(backend.read_models.pool).access(flavor_id)
    return {"flavor_access": [{"flavor_id": flavor_id, "tenant_id": project}
                              for project in projects]}


@get("/flavors/{flavor_id:str}/os-flavor-access", sync_to_thread=True)
def list_flavor_access(request: Request, backend: BackendDep,
                       flavor_id: FromPath[str]) -> dict[str, Any]:
    """The projects that may use a private flavor (404 for a public one)."""
    policy.authorize(identity(request), ACCESS)
    if visible_flavor(backend, identity(request), flavor_id)["is_public"]:
        raise ItemNotFound("Access list not available for public flavors.")
    return _access_list(backend, flavor_id)


def _action(body: bytes) -> tuple[str, str]:
    """The action a body names, and its ``tenant``."""
    try:
        document = msgspec.json.decode(body)
    except msgspec.DecodeError:
        raise BadRequest("Malformed request body: cannot understand JSON") from None
    if not isinstance(document, dict) or len(document) != 1:
        raise BadRequest("Malformed request body: too many body keys")
    action = next(iter(document))
    if action not in ("addTenantAccess", "removeTenantAccess"):
        raise BadRequest(f"There is no such action: {action}")
    return action, flavor_schemas.parse_tenant(body, action)


@post("/flavors/{flavor_id:str}/action", status_code=200, sync_to_thread=True)
def flavor_action(request: Request, backend: BackendDep, flavor_id: FromPath[str],
                  body: RawBody) -> dict[str, Any]:
    """Give a project access to a private flavor, or take it back; answers the list."""
    action, tenant = _action(body)
    caller, context = identity(request), service_context(request)
    if action == "addTenantAccess":
        policy.authorize(caller, ACCESS + ":add_tenant_access")
        visible_flavor(backend, caller, flavor_id)
        positions = flavors.add_access(backend.store, flavor_id, tenant, context=context,
                                       refuse_public=negotiated(request.scope) >= V2_7)
    else:
        policy.authorize(caller, ACCESS + ":remove_tenant_access")
        visible_flavor(backend, caller, flavor_id)
        positions = flavors.remove_access(backend.store, flavor_id, tenant, context=context)
    wait(backend, positions)
    return _access_list(backend, flavor_id)


HANDLERS = [list_extra_specs, show_extra_spec, create_extra_specs, update_extra_spec,
            delete_extra_spec, list_flavor_access, flavor_action]
