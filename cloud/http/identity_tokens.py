"""Keystone's version documents and ``/v3/auth/tokens``: issue, validate, check, revoke."""

from typing import Any

from litestar import Request, Response, delete, get, head, post
from litestar.params import RawBody

from cloud.http import identity_schemas as schemas
from cloud.http import identity_views as views
from cloud.http.faults import Forbidden, ItemNotFound, Unauthorized
from cloud.http.identity_auth import Keystone, KeystoneDep, is_admin, now
from cloud.services import auth
from cloud.services.auth import Validated

SUBJECT = "X-Subject-Token"


@get("/", status_code=300, sync_to_thread=False)
def list_versions(keystone: KeystoneDep) -> dict[str, Any]:
    """``GET /identity``: the versions this endpoint serves (only v3)."""
    return {"versions": {"values": [views.version(keystone.v3)]}}


@get("/v3", sync_to_thread=False)
def show_v3(keystone: KeystoneDep) -> dict[str, Any]:
    """``GET /identity/v3``."""
    return {"version": views.version(keystone.v3)}


def _password_request(body: bytes) -> tuple[schemas.NamedRef, schemas.NamedRef | None]:
    request = schemas.decode(body, "auth", schemas.Auth)
    if "password" not in request.identity.methods or request.identity.password is None:
        raise Unauthorized("Only the password authentication method is supported.")
    scope = request.scope.project if request.scope else None
    return request.identity.password.user, scope


@post("/v3/auth/tokens", status_code=201, sync_to_thread=True)
def issue_token(keystone: KeystoneDep, body: RawBody) -> Response[dict[str, Any]]:
    """Password authentication, scoped to a project: 201 with ``X-Subject-Token``."""
    user, project = _password_request(body)
    try:
        validated = auth.password_token(
            keystone.queries, keystone.credentials, keystone.tokens, user=user.ref(),
            password=user.password or "", project=project.ref() if project else None,
            now=now())
    except auth.Unauthenticated as error:
        raise Unauthorized(error.message) from None
    return Response(views.token(validated, keystone.public_url), status_code=201,
                    headers={SUBJECT: validated.token})


def _subject(request: Request, keystone: Keystone) -> Validated:
    """The token named by ``X-Subject-Token``, which the caller may look at (a token of
    its own user, or any for an admin); 404 when it does not hold."""
    caller = keystone.caller(request.headers)
    subject_token = request.headers.get(SUBJECT)
    if subject_token == caller.token:
        return caller
    try:
        subject = auth.validate(keystone.queries, keystone.tokens, subject_token, now=now())
    except auth.Unauthenticated as error:
        raise ItemNotFound(f"Could not find token: {error.message}") from None
    if not is_admin(caller) and subject.payload.user_id != caller.payload.user_id:
        raise Forbidden("You are not authorized to perform the requested action.")
    return subject


@get("/v3/auth/tokens", sync_to_thread=True)
def validate_token(request: Request, keystone: KeystoneDep) -> Response[dict[str, Any]]:
    """The body of a token that still holds."""
    validated = _subject(request, keystone)
    return Response(views.token(validated, keystone.public_url),
                    headers={SUBJECT: validated.token})


@head("/v3/auth/tokens", status_code=200, sync_to_thread=True)
def check_token(request: Request, keystone: KeystoneDep) -> None:
    """200 when the token holds, 404 when not."""
    _subject(request, keystone)


@delete("/v3/auth/tokens", status_code=204, sync_to_thread=True)
def revoke_token(request: Request, keystone: KeystoneDep) -> None:
    """Revoke a token: every later use of it is a 401."""
    auth.revoke(keystone.tokens, _subject(request, keystone), now=now())


HANDLERS = [list_versions, show_v3, issue_token, validate_token, check_token, revoke_token]
