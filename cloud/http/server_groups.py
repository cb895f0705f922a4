"""``/os-server-groups``: create, list, show and delete server groups.

Before 2.64 a group has ``policies`` (one of them) and an empty ``metadata``; from 2.64
a ``policy`` and ``rules`` (``max_server_per_host``, anti-affinity only). 2.13 shows
``project_id`` and ``user_id``; 2.15 allows the soft policies. Members are the servers
created with the ``group`` scheduler hint, while they are not deleted.
"""

from typing import Annotated, Any

import msgspec
from litestar import Request, delete, get, post
from litestar.params import FromPath, RawBody

from cloud.domain import quota
from cloud.domain.errors import QuotaExceeded
from cloud.domain.server_group import GroupNotFound, MAX_PER_HOST, POLICIES
from cloud.http import paging, policy
from cloud.http.context import Backend, BackendDep, identity, service_context
from cloud.http.faults import BadRequest
from cloud.http.microversions import APIVersion, negotiated
from cloud.projections.aggregate_queries import AggregateQueries
from cloud.projections.quota_queries import QuotaQueries
from cloud.services import server_groups

V2_13, V2_15 = APIVersion(2, 13), APIVersion(2, 15)
V2_64, V2_71 = APIVersion(2, 64), APIVersion(2, 71)
STRICT = ("anti-affinity", "affinity")
Row = dict[str, Any]
Name = Annotated[str, msgspec.Meta(min_length=1, max_length=255)]
_RULE = "os_compute_api:os-server-groups:"


class _Group(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    name: Name
    policies: list[str] | msgspec.UnsetType = msgspec.UNSET  # before 2.64
    policy: str | msgspec.UnsetType = msgspec.UNSET  # from 2.64
    # from 2.64; Nova takes a count as a number or as a string of digits (which is what
    # `openstack server group create --rule max_server_per_host=2` sends)
    rules: dict[str, int | str] | msgspec.UnsetType = msgspec.UNSET


class _Body(msgspec.Struct, forbid_unknown_fields=True):
    server_group: _Group


_decoder = msgspec.json.Decoder(_Body)


# --- parsing --------------------------------------------------------------------------


def _unexpected(field: str) -> BadRequest:
    return BadRequest("Invalid input for field/attribute server_group. Additional"
                      f" properties are not allowed ('{field}' was unexpected)")


def _allowed(version: APIVersion) -> tuple[str, ...]:
    return POLICIES if version >= V2_15 else STRICT


def _policy(group: _Group, version: APIVersion) -> tuple[str, dict[str, int]]:
    """The policy and rules the body gives, as its microversion spells them."""
    old, new = ("policies",), ("policy", "rules")
    for field in (old if version >= V2_64 else new):
        if getattr(group, field) is not msgspec.UNSET:
            raise _unexpected(field)
    if version >= V2_64:
        chosen, rules = group.policy, group.rules or {}
    else:
        given = group.policies if isinstance(group.policies, list) else []
        chosen, rules = (given[0] if len(given) == 1 else msgspec.UNSET), {}
    if chosen is msgspec.UNSET or chosen not in _allowed(version):
        field = "policy" if version >= V2_64 else "policies"
        raise BadRequest(f"Invalid input for field/attribute {field}. Value: {chosen}."
                         f" It must be one of {list(_allowed(version))}.")
    if set(rules) - {MAX_PER_HOST}:
        raise _unexpected(sorted(set(rules) - {MAX_PER_HOST})[0])
    return chosen, {name: _count(name, value) for name, value in rules.items()}  # type: ignore


def _count(name: str, value: int | str) -> int:
    if isinstance(value, str):
        if not (value.isascii() and value.isdigit()):
            raise BadRequest(f"Invalid input for field/attribute {name}. Value: {value}."
                             f" '{value}' does not match '^[0-9]*$'")
        return int(value)
    return value


def parse_create(body: bytes, version: APIVersion) -> tuple[str, str, dict[str, int]]:
    try:
        group = _decoder.decode(body).server_group
    except (msgspec.ValidationError, msgspec.DecodeError) as error:
        raise BadRequest(f"Invalid input for the request body: {error}") from None
    if not group.name.isprintable() or group.name != group.name.strip():
        raise BadRequest(f"Invalid input for field/attribute name. Value: {group.name}.")
    chosen, rules = _policy(group, version)
    return group.name, chosen, rules


# --- views ----------------------------------------------------------------------------


def group_view(row: Row, version: APIVersion) -> dict[str, Any]:
    """A server group as of ``version``."""
    shown: dict[str, Any] = {"id": row["id"], "name": row["name"]}
    if version >= V2_64:
        shown.update(policy=row["policy"], rules=dict(row["rules"]))
    else:
        shown.update(policies=[row["policy"]], metadata={})
    shown["members"] = list(row["members"])
    if version >= V2_13:
        shown.update(project_id=row["project_id"], user_id=row["user_id"])
    return shown


def with_groups(backend: Backend, row: Row, version: APIVersion) -> Row:
    """A server row with its groups for the 2.71 ``server_groups`` field (show, update
    and rebuild show it; lists do not)."""
    if version < V2_71:
        return row
    return {**row, "server_groups": AggregateQueries(
        backend.read_models.pool).groups_of_server(row["id"])}


# --- handlers -------------------------------------------------------------------------


def _queries(backend: Backend) -> AggregateQueries:
    return AggregateQueries(backend.read_models.pool)


def _visible(request: Request, backend: Backend, group_id: str, action: str) -> Row:
    row = _queries(backend).server_group(group_id)
    if row is None:
        raise GroupNotFound(group_id)
    policy.authorize(identity(request), _RULE + action, project_id=row["project_id"],
                     hide=str(GroupNotFound(group_id)))
    return row


def _check_quota(backend: Backend, project_id: str) -> None:
    limits = {**quota.DEFAULT_LIMITS,
              **QuotaQueries(backend.read_models.pool).limits(project_id)}
    limit = limits["server_groups"]
    in_use = len(_queries(backend).server_groups(project_id=project_id, limit=10**6,
                                                 offset=0))
    if limit != quota.UNLIMITED and in_use + 1 > limit:
        raise QuotaExceeded("Quota exceeded, too many server groups.")


@post("/os-server-groups", status_code=200, sync_to_thread=True)
def create_group(request: Request, backend: BackendDep, body: RawBody) -> dict[str, Any]:
    caller = identity(request)
    policy.authorize(caller, _RULE + "create")
    version = negotiated(request.scope)
    name, chosen, rules = parse_create(body, version)
    _check_quota(backend, caller.project_id)
    group_id, positions = server_groups.create(backend.store, name=name, policy=chosen,
                                               rules=rules, context=service_context(request))
    backend.read_models.wait_for(max(positions))
    return {"server_group": group_view(_queries(backend).server_group(group_id) or {},
                                       version)}


def _paging(request: Request) -> tuple[int, int]:
    params = request.query_params
    offset = params.get("offset", "0")
    if not offset.isdigit():
        raise BadRequest("offset param must be an integer")
    return paging.limit(params.get("limit")), int(offset)


@get("/os-server-groups", sync_to_thread=True)
def list_groups(request: Request, backend: BackendDep) -> dict[str, Any]:
    """The caller's project's groups; every project's with ``all_projects`` (admin)."""
    caller = identity(request)
    policy.authorize(caller, _RULE + "index")
    project_id: str | None = caller.project_id
    if "all_projects" in request.query_params and policy.is_admin(caller):
        project_id = None
    limit, offset = _paging(request)
    rows = _queries(backend).server_groups(project_id=project_id, limit=limit, offset=offset)
    version = negotiated(request.scope)
    return {"server_groups": [group_view(row, version) for row in rows]}


@get("/os-server-groups/{group_id:str}", sync_to_thread=True)
def show_group(request: Request, backend: BackendDep,
               group_id: FromPath[str]) -> dict[str, Any]:
    row = _visible(request, backend, group_id, "show")
    return {"server_group": group_view(row, negotiated(request.scope))}


@delete("/os-server-groups/{group_id:str}", status_code=204, sync_to_thread=True)
def delete_group(request: Request, backend: BackendDep,
                 group_id: FromPath[str]) -> None:
    _visible(request, backend, group_id, "delete")
    positions = server_groups.delete(backend.store, group_id,
                                     context=service_context(request))
    if positions:
        backend.read_models.wait_for(max(positions))


HANDLERS = [create_group, list_groups, show_group, delete_group]
