"""``/os-keypairs``: list, show, create (import or generate) and delete key pairs.

A key pair belongs to a user. Microversion 2.2 adds ``type`` (``ssh`` or ``x509``) and
makes create answer 201 and delete 204; 2.10 lets admins act on another user's key pairs
(``user_id`` in the create body, ``?user_id=`` elsewhere); 2.35 pages the list
(``limit``, ``marker`` by name, ``keypairs_links``); 2.75 refuses unknown query
parameters; 2.92 requires ``public_key`` (no generation) and allows ``@`` and ``.`` in
names.
"""

import re
from typing import Any

import msgspec
from litestar import Request, Response, delete, get, post
from litestar.params import FromPath, RawBody

from cloud.domain import keypair, quota
from cloud.domain.errors import KeypairNotFound
from cloud.domain.keypair import KEY_TYPES, SSH
from cloud.http import paging, views
from cloud.http.context import Backend, BackendDep, identity, service_context
from cloud.http.faults import BadRequest, Forbidden
from cloud.http.microversions import APIVersion, negotiated
from cloud.projections.quota_queries import QuotaQueries
from cloud.services import keypairs

V2_2, V2_10, V2_35 = APIVersion(2, 2), APIVersion(2, 10), APIVersion(2, 35)
V2_75, V2_92 = APIVersion(2, 75), APIVersion(2, 92)
_NAME = re.compile(r"^[_\- a-zA-Z0-9]+$")
_NAME_V2_92 = re.compile(r"^[@._\- a-zA-Z0-9]+$")
Row = dict[str, Any]


class KeypairCreate(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    name: str
    public_key: str | msgspec.UnsetType = msgspec.UNSET
    type: str | msgspec.UnsetType = msgspec.UNSET  # from 2.2
    user_id: str | msgspec.UnsetType = msgspec.UNSET  # from 2.10


class CreateKeypairBody(msgspec.Struct, forbid_unknown_fields=True):
    keypair: KeypairCreate


_decoder = msgspec.json.Decoder(CreateKeypairBody)


# --- parsing and policy ---------------------------------------------------------------


def _invalid(field: str, value: object, reason: str) -> BadRequest:
    return BadRequest(f"Invalid input for field/attribute {field}. Value: {value}. {reason}")


def parse_create(body: bytes, version: APIVersion) -> KeypairCreate:
    """The key pair to create as this microversion allows it, or 400."""
    try:
        wanted = _decoder.decode(body).keypair
    except (msgspec.ValidationError, msgspec.DecodeError) as error:
        raise BadRequest(f"Invalid input for the request body: {error}") from None
    for field, since in (("type", V2_2), ("user_id", V2_10)):
        if getattr(wanted, field) is not msgspec.UNSET and version < since:
            raise _invalid("keypair", field, "Additional properties are not allowed"
                                             f" ('{field}' was unexpected)")
    if version >= V2_92 and wanted.public_key is msgspec.UNSET:
        raise _invalid("keypair", "public_key", "'public_key' is a required property"
                                                " (key pairs are no longer generated)")
    name, pattern = wanted.name, _NAME_V2_92 if version >= V2_92 else _NAME
    if not 1 <= len(name) <= 255 or name != name.strip() or not pattern.match(name):
        raise _invalid("name", name, f"'{name}' does not match '{pattern.pattern}'")
    if wanted.type is not msgspec.UNSET and wanted.type not in KEY_TYPES:
        raise _invalid("type", wanted.type, f"'{wanted.type}' is not one of {list(KEY_TYPES)}")
    return wanted


def authorized_user(request: Request, user_id: str | None, action: str) -> str:
    """The user whose key pairs are meant: the caller, or anyone for an admin (403)."""
    caller = identity(request)
    user_id = user_id or caller.user_id
    if user_id != caller.user_id and not caller.is_admin:
        raise Forbidden(f"Policy doesn't allow os_compute_api:os-keypairs:{action}"
                        " to be performed.")
    return user_id


def _user_asked(request: Request, action: str) -> str:
    """The user of ``?user_id=`` (heard from 2.10 on), authorized."""
    asked = None
    if negotiated(request.scope) >= V2_10:
        asked = request.query_params.get("user_id")
    return authorized_user(request, asked, action)


def _strict_query(request: Request, known: tuple[str, ...]) -> None:
    """From 2.75 an unknown query parameter is refused rather than ignored."""
    if negotiated(request.scope) < V2_75:
        return
    for name in request.query_params:
        if name not in known:
            raise BadRequest("Invalid input for query parameters. Additional properties"
                             f" are not allowed ('{name}' was unexpected)")


def _page(request: Request, backend: Backend,
          rows: list[Row]) -> tuple[list[Row], dict[str, Any]]:
    """From 2.35, the page after ``marker`` (a name) of at most ``limit`` key pairs,
    with a ``keypairs_links`` next link when the page is full."""
    if negotiated(request.scope) < V2_35:
        return rows, {}
    params = request.query_params
    page_limit = paging.limit(params.get("limit"))
    page = list(paging.after_marker(rows, params.get("marker"), lambda row: row["name"]))
    page = page[:page_limit]
    if not paging.is_full(page, page_limit):
        return page, {}
    link = backend.links.next_page("os-keypairs", params.multi_items(), page[-1]["name"])
    return page, {"keypairs_links": [link]}


def _queries(backend: Backend) -> QuotaQueries:
    return QuotaQueries(backend.read_models.pool)


def _wait(backend: Backend, positions: list[int]) -> None:
    if positions:
        backend.read_models.wait_for(max(positions))


# --- views ----------------------------------------------------------------------------


def _typed(shown: dict[str, Any], key_type: str, version: APIVersion) -> dict[str, Any]:
    return {**shown, "type": key_type} if version >= V2_2 else shown


def summary(row: Row, version: APIVersion) -> dict[str, Any]:
    """A key pair as listed."""
    shown = {"name": row["name"], "public_key": row["public_key"],
             "fingerprint": row["fingerprint"]}
    return _typed(shown, row["key_type"], version)


def detail(row: Row, version: APIVersion) -> dict[str, Any]:
    """A key pair as shown alone (the soft-delete fields are always empty)."""
    shown = {**summary(row, APIVersion(2, 1)), "user_id": row["user_id"], "id": row["id"],
             "created_at": views.usage_time(row["created_at"]), "updated_at": None,
             "deleted": False, "deleted_at": None}
    return _typed(shown, row["key_type"], version)


def created(result: keypairs.Created, version: APIVersion) -> dict[str, Any]:
    """The answer to a create: the private key only when it was generated here."""
    pair = result.keypair
    shown = {"name": pair.name, "public_key": pair.public_key,
             "fingerprint": pair.fingerprint, "user_id": pair.user_id}
    if result.private_key is not None:
        shown["private_key"] = result.private_key
    return _typed(shown, pair.key_type, version)


# --- handlers -------------------------------------------------------------------------


@get("/os-keypairs", sync_to_thread=True)
def list_keypairs(request: Request, backend: BackendDep) -> dict[str, Any]:
    """The caller's key pairs (an admin's choice of user from 2.10)."""
    version = negotiated(request.scope)
    _strict_query(request, ("user_id", "limit", "marker"))
    rows, links = _page(request, backend, _queries(backend).keypairs(
        _user_asked(request, "index")))
    return {"keypairs": [{"keypair": summary(row, version)} for row in rows], **links}


@get("/os-keypairs/{keypair_name:str}", sync_to_thread=True)
def show_keypair(request: Request, backend: BackendDep,
                 keypair_name: FromPath[str]) -> dict[str, Any]:
    """One key pair with every field (404 when the user has none by that name)."""
    _strict_query(request, ("user_id",))
    user_id = _user_asked(request, "show")
    row = _queries(backend).keypair(user_id, keypair_name)
    if row is None:
        raise KeypairNotFound(user_id, keypair_name)
    return {"keypair": detail(row, negotiated(request.scope))}


@post("/os-keypairs", sync_to_thread=True)
def create_keypair(request: Request, backend: BackendDep, body: RawBody) -> Response[Any]:
    """Import the given public key, or generate a key pair (until 2.92); 200 before 2.2,
    then 201."""
    version = negotiated(request.scope)
    wanted = parse_create(body, version)
    user_id = authorized_user(request, wanted.user_id or None, "create")
    queries = _queries(backend)
    limits = {**quota.DEFAULT_LIMITS, **queries.limits(identity(request).project_id)}
    keypair.check_quota(in_use=queries.keypair_count(user_id), limit=limits["key_pairs"])
    result = keypairs.create(
        backend.store, user_id=user_id, name=wanted.name, key_type=wanted.type or SSH,
        public_key=None if wanted.public_key is msgspec.UNSET else wanted.public_key,
        context=service_context(request))
    _wait(backend, result.positions)
    return Response({"keypair": created(result, version)},
                    status_code=201 if version >= V2_2 else 200)


@delete("/os-keypairs/{keypair_name:str}", status_code=202, sync_to_thread=True)
def delete_keypair(request: Request, backend: BackendDep,
                   keypair_name: FromPath[str]) -> Response[bytes]:
    """Forget a key pair (202 before 2.2, then 204)."""
    _strict_query(request, ("user_id",))
    user_id = _user_asked(request, "delete")
    _wait(backend, keypairs.delete(backend.store, user_id=user_id, name=keypair_name,
                                   context=service_context(request)))
    status = 204 if negotiated(request.scope) >= V2_2 else 202
    return Response(content=b"", status_code=status)


HANDLERS = [list_keypairs, show_keypair, create_keypair, delete_keypair]
