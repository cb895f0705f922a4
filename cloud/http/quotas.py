"""``/os-quota-sets`` and ``/limits``: a project's limits and what it uses of them.

Which resources are shown depends on the microversion: 2.36 drops the network ones, 2.39
``maxImageMeta`` from the limits, 2.57 the injected files.
"""

from typing import Any

import msgspec
from litestar import Request, Response, delete, get, put
from litestar.params import FromPath, RawBody

from cloud.domain import quota
from cloud.http.context import Backend, BackendDep, identity, service_context
from cloud.http.faults import BadRequest, Forbidden
from cloud.http.microversions import APIVersion, negotiated
from cloud.projections.quota_queries import QuotaQueries
from cloud.services import quotas

V2_36, V2_39, V2_57 = APIVersion(2, 36), APIVersion(2, 39), APIVersion(2, 57)
NETWORK_QUOTAS = ("fixed_ips", "floating_ips", "security_group_rules", "security_groups")
FILE_QUOTAS = ("injected_files", "injected_file_content_bytes", "injected_file_path_bytes")
MAX_LIMIT = 0x7FFFFFFF
_TRUE = {"true", "1", "on", "yes"}
_FALSE = {"false", "0", "off", "no"}

# Nova's names in /limits for each quota resource, and for the usage of some.
LIMIT_NAMES = {
    "ram": ("maxTotalRAMSize",), "instances": ("maxTotalInstances",),
    "cores": ("maxTotalCores",), "key_pairs": ("maxTotalKeypairs",),
    "floating_ips": ("maxTotalFloatingIps",),
    "metadata_items": ("maxServerMeta", "maxImageMeta"),
    "injected_files": ("maxPersonality",),
    "injected_file_content_bytes": ("maxPersonalitySize",),
    "security_groups": ("maxSecurityGroups",),
    "security_group_rules": ("maxSecurityGroupRules",),
    "server_groups": ("maxServerGroups",),
    "server_group_members": ("maxServerGroupMembers",),
}
USED_NAMES = {
    "totalRAMUsed": "ram", "totalCoresUsed": "cores", "totalInstancesUsed": "instances",
    "totalFloatingIpsUsed": "floating_ips", "totalSecurityGroupsUsed": "security_groups",
    "totalServerGroupsUsed": "server_groups",
}


# --- views (pure) ---------------------------------------------------------------------


def quota_resources(version: APIVersion) -> list[str]:
    """The quota resources a microversion knows, in Nova's order."""
    hidden: tuple[str, ...] = ()
    if version >= V2_36:
        hidden = NETWORK_QUOTAS + (FILE_QUOTAS if version >= V2_57 else ())
    return [name for name in quota.DEFAULT_LIMITS if name not in hidden]


def quota_set(project_id: str | None, values: dict[str, Any],
              version: APIVersion) -> dict[str, Any]:
    """``{"quota_set": ...}`` with a value per resource (and the ``id`` when given)."""
    shown = {} if project_id is None else {"id": project_id}
    shown.update({name: values[name] for name in quota_resources(version)})
    return {"quota_set": shown}


def absolute_limits(limits: dict[str, int], used: dict[str, int],
                    version: APIVersion) -> dict[str, int]:
    """The ``absolute`` part of ``/limits`` as of this microversion."""
    hidden = set()
    if version >= V2_36:
        hidden = {"floating_ips", "security_groups", "security_group_rules"}
    if version >= V2_57:
        hidden |= {"injected_files", "injected_file_content_bytes"}
    shown = {}
    for resource, names in LIMIT_NAMES.items():
        if resource not in hidden:
            shown.update({name: limits[resource] for name in names
                          if not (name == "maxImageMeta" and version >= V2_39)})
    shown.update({name: used.get(resource, 0) for name, resource in USED_NAMES.items()
                  if resource not in hidden})
    return shown


# --- reading --------------------------------------------------------------------------


def _policy(rule: str) -> Forbidden:
    return Forbidden(f"Policy doesn't allow {rule} to be performed.")


def _own_or_admin(request: Request, project_id: str, action: str) -> None:
    caller = identity(request)
    if not (caller.is_admin or caller.project_id == project_id):
        raise _policy(f"os_compute_api:os-quota-sets:{action}")


def _admin(request: Request, action: str) -> None:
    if not identity(request).is_admin:
        raise _policy(f"os_compute_api:os-quota-sets:{action}")


def _limits_and_usage(backend: Backend, project_id: str) -> tuple[dict, dict]:
    queries = QuotaQueries(backend.read_models.pool)
    return {**quota.DEFAULT_LIMITS, **queries.limits(project_id)}, queries.usage(project_id)


@get("/os-quota-sets/{project_id:str}", sync_to_thread=True)
def show_quota_set(request: Request, backend: BackendDep,
                   project_id: FromPath[str]) -> dict[str, Any]:
    """The project's limits (its own members, or admins)."""
    _own_or_admin(request, project_id, "show")
    limits, _ = _limits_and_usage(backend, project_id)
    return quota_set(project_id, limits, negotiated(request.scope))


@get("/os-quota-sets/{project_id:str}/defaults", sync_to_thread=False)
def show_quota_defaults(request: Request, project_id: FromPath[str]) -> dict[str, Any]:
    """The default limits (anyone may ask)."""
    return quota_set(project_id, quota.DEFAULT_LIMITS, negotiated(request.scope))


@get("/os-quota-sets/{project_id:str}/detail", sync_to_thread=True)
def show_quota_detail(request: Request, backend: BackendDep,
                      project_id: FromPath[str]) -> dict[str, Any]:
    """Each limit with its usage (``reserved`` is always 0, as in Nova)."""
    _own_or_admin(request, project_id, "detail")
    limits, used = _limits_and_usage(backend, project_id)
    values = {name: {"limit": limit, "in_use": used.get(name, 0), "reserved": 0}
              for name, limit in limits.items()}
    return quota_set(project_id, values, negotiated(request.scope))


@get("/limits", sync_to_thread=True)
def show_limits(request: Request, backend: BackendDep) -> dict[str, Any]:
    """The caller's project (an admin may ask for another with ``tenant_id``)."""
    project_id = identity(request).project_id
    if "tenant_id" in request.query_params:
        if not identity(request).is_admin:
            raise _policy("os_compute_api:limits:other_project")
        project_id = request.query_params["tenant_id"]
    limits, used = _limits_and_usage(backend, project_id)
    absolute = absolute_limits(limits, used, negotiated(request.scope))
    return {"limits": {"rate": [], "absolute": absolute}}


# --- changing -------------------------------------------------------------------------


def _invalid(field: str, value: object, reason: str) -> BadRequest:
    return BadRequest(f"Invalid input for field/attribute {field}. Value: {value}. {reason}")


def _limit_value(name: str, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise _invalid(name, value, f"{value!r} is not of type 'integer', 'string'")
    try:
        number = int(value)
    except ValueError:
        raise _invalid(name, value, f"'{value}' does not match '^-?[0-9]+$'") from None
    if number < quota.UNLIMITED:
        raise _invalid(name, value, f"{number} is less than the minimum of -1")
    if number > MAX_LIMIT:
        raise _invalid(name, value, f"{number} is greater than the maximum of {MAX_LIMIT}")
    return number


def _flag(value: object) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in _TRUE | _FALSE:
        return value.lower() in _TRUE
    raise _invalid("force", value, f"{value!r} is not a valid boolean")


def parse_update(body: bytes, version: APIVersion) -> tuple[dict[str, int], bool]:
    """The limits to set and whether to force them below what is in use, or 400."""
    try:
        document = msgspec.json.decode(body) if body.strip() else None
    except msgspec.DecodeError as error:
        raise BadRequest(f"Malformed request body: {error}") from None
    if not isinstance(document, dict) or set(document) != {"quota_set"} or \
            not isinstance(document["quota_set"], dict):
        raise BadRequest("Invalid input for the request body: a 'quota_set' object is"
                         " required and nothing else.")
    known = set(quota_resources(version))
    changes, force = {}, False
    for name, value in document["quota_set"].items():
        if name == "force":
            force = _flag(value)
        elif name not in known:
            raise _invalid("quota_set", name, "Additional properties are not allowed"
                                              f" ('{name}' was unexpected)")
        else:
            changes[name] = _limit_value(name, value)
    return changes, force


def _per_user(request: Request) -> None:
    if "user_id" in request.query_params:
        raise BadRequest("Quotas per user are not supported: set the project's quotas.")


@put("/os-quota-sets/{project_id:str}", sync_to_thread=True)
def update_quota_set(request: Request, backend: BackendDep, project_id: FromPath[str],
                     body: RawBody) -> dict[str, Any]:
    """Set some of a project's limits (admins only); answers every limit, without id."""
    _admin(request, "update")
    _per_user(request)
    version = negotiated(request.scope)
    changes, force = parse_update(body, version)
    positions = quotas.update_limits(backend.store, project_id, changes, force=force,
                                     context=service_context(request))
    if positions:
        backend.read_models.wait_for(max(positions))
    limits, _ = _limits_and_usage(backend, project_id)
    return quota_set(None, limits, version)


@delete("/os-quota-sets/{project_id:str}", status_code=202, sync_to_thread=True)
def delete_quota_set(request: Request, backend: BackendDep,
                     project_id: FromPath[str]) -> Response[bytes]:
    """Every limit of the project back to the default (admins only)."""
    _admin(request, "delete")
    _per_user(request)
    positions = quotas.reset_limits(backend.store, project_id,
                                    context=service_context(request))
    if positions:
        backend.read_models.wait_for(max(positions))
    return Response(content=b"", status_code=202)


HANDLERS = [show_quota_set, show_quota_defaults, show_quota_detail, show_limits,
            update_quota_set, delete_quota_set]
