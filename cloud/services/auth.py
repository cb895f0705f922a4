"""Tokens for users: password authentication scoped to a project, and validation that
re-checks, on every use, that the user and project still exist and are enabled and that
the roles the token names are still held."""

import datetime as dt

import msgspec

from cloud.adapters.credentials import Credentials
from cloud.adapters.tokens import InvalidToken, TokenPayload, Tokens
from cloud.domain import identity as idm
from cloud.projections.identity_queries import IdentityQueries, Row

REQUIRES_AUTH = "The request you have made requires authentication."


class Unauthenticated(Exception):
    """Credentials or token not accepted (a 401)."""

    def __init__(self, message: str = REQUIRES_AUTH) -> None:
        super().__init__(message)
        self.message = message


class Ref(msgspec.Struct, frozen=True, kw_only=True):
    """A user or project as a request names it: by id, or by name within a domain
    (itself named by ``domain_id`` or ``domain_name``)."""

    id: str | None = None
    name: str | None = None
    domain_id: str | None = None
    domain_name: str | None = None


class Validated(msgspec.Struct, frozen=True, kw_only=True):
    """A token that holds, with the current names of what it refers to."""

    token: str
    payload: TokenPayload
    scope: Row


def _domain(ref: Ref) -> str:
    """The domain a name lives in; only ``default`` / ``Default`` exists."""
    if ref.domain_id == idm.DEFAULT_DOMAIN_ID or (
            ref.domain_id is None and ref.domain_name in (None, idm.DEFAULT_DOMAIN_NAME)):
        return idm.DEFAULT_DOMAIN_ID
    raise Unauthenticated(f"Could not find domain: {ref.domain_id or ref.domain_name}.")


def _find(ref: Ref, by_id, by_name) -> Row | None:
    if ref.id is not None:
        return by_id(ref.id)
    if ref.name is None:
        raise Unauthenticated("A user or project must be named by id or by name.")
    return by_name(ref.name, _domain(ref))


def _scope_of(queries: IdentityQueries, user_id: str, project_id: str) -> Row:
    """The user and project with the effective roles held there; 401 unless usable."""
    scope = queries.scope(user_id, project_id)
    if scope is None:
        raise Unauthenticated("The user or project of this token no longer exists.")
    if not scope["user_enabled"] or not scope["project_enabled"]:
        raise Unauthenticated("The user or project is disabled.")
    roles = idm.effective_roles(frozenset(scope["roles"]))
    if not roles:
        raise Unauthenticated(f"User {user_id} has no access to project {project_id}.")
    return {**scope, "roles": sorted(roles)}


def password_token(queries: IdentityQueries, credentials: Credentials, tokens: Tokens, *,
                   user: Ref, password: str, project: Ref | None, now: dt.datetime,
                   lifetime: dt.timedelta | None = None) -> Validated:
    """A token for a user who proves their password, scoped to a project (the given
    one, else the user's default project)."""
    found = _find(user, queries.user, queries.user_named)
    # An unknown user costs a hash too, so timing does not tell which names exist.
    if not credentials.verify(found["id"] if found else "", password) or found is None:
        raise Unauthenticated()
    if project is None and found["default_project_id"] is None:
        raise Unauthenticated("A project scope is required.")
    target = (_find(project, queries.project, queries.project_named) if project
              else queries.project(found["default_project_id"]))
    if target is None:
        raise Unauthenticated("Could not find the project to scope to.")
    scope = _scope_of(queries, found["id"], target["id"])
    token, payload = tokens.issue(user_id=found["id"], project_id=target["id"],
                                  roles=scope["roles"], methods=["password"], now=now,
                                  lifetime=lifetime)
    return Validated(token=token, payload=payload, scope=scope)


def validate(queries: IdentityQueries, tokens: Tokens, token: str | None, *,
             now: dt.datetime) -> Validated:
    """A token that is well signed, unexpired, unrevoked and still holds; else 401."""
    if not token:
        raise Unauthenticated()
    try:
        payload = tokens.verify(token, now=now)
    except InvalidToken as error:
        raise Unauthenticated(str(error)) from None
    scope = _scope_of(queries, payload.user_id, payload.project_id)
    if not set(payload.roles) <= set(scope["roles"]):
        raise Unauthenticated("The roles of this token are no longer assigned.")
    return Validated(token=token, payload=payload, scope={**scope, "roles": payload.roles})


def revoke(tokens: Tokens, validated: Validated, *, now: dt.datetime) -> None:
    """Revoke a token: from now on it is refused everywhere."""
    tokens.revoke(validated.payload, now=now)
