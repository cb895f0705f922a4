"""Tokens at the HTTP edge: ``KeystoneAuth`` authenticates compute requests, and
``Keystone`` is what the identity handlers work with."""

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass

from litestar.di import NamedDependency

from cloud.adapters.credentials import Credentials
from cloud.adapters.eventstore import EventStore
from cloud.adapters.tokens import DEFAULT_LIFETIME, Tokens
from cloud.domain import identity as idm
from cloud.http.context import Identity
from cloud.http.faults import Unauthorized
from cloud.projections.identity_queries import IdentityQueries
from cloud.projections.queries import ReadModels
from cloud.services import auth
from cloud.services.auth import Validated


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def identity_of(validated: Validated) -> Identity:
    """The compute API's view of a validated token."""
    scope = validated.scope
    return Identity(user_id=scope["user_id"], project_id=scope["project_id"],
                    roles=frozenset(validated.payload.roles), user_name=scope["user_name"],
                    project_name=scope["project_name"], domain_id=scope["user_domain_id"])


class KeystoneAuth:
    """The compute API's Authenticator: an ``X-Auth-Token`` issued by our identity API
    that still holds, else 401."""

    def __init__(self, queries: IdentityQueries, tokens: Tokens) -> None:
        self.queries, self.tokens = queries, tokens

    @classmethod
    def from_read_models(cls, read_models: ReadModels) -> "KeystoneAuth":
        """One sharing the read models' connection pool."""
        return cls(IdentityQueries(read_models.pool), Tokens(read_models.pool))

    def validate(self, token: str | None) -> Validated:
        """The token, validated; raises Unauthorized (401)."""
        try:
            return auth.validate(self.queries, self.tokens, token, now=now())
        except auth.Unauthenticated as error:
            raise Unauthorized(error.message) from None

    def authenticate(self, headers: Mapping[str, str]) -> Identity:
        """Who sent a request carrying ``X-Auth-Token``."""
        return identity_of(self.validate(headers.get("x-auth-token")))


@dataclass(frozen=True)
class Keystone:
    """The identity API's stores, token service and public base URL."""

    store: EventStore
    read_models: ReadModels
    queries: IdentityQueries
    credentials: Credentials
    tokens: Tokens
    public_url: str

    @classmethod
    def build(cls, *, store: EventStore, read_models: ReadModels, public_url: str,
              token_lifetime: dt.timedelta = DEFAULT_LIFETIME) -> "Keystone":
        pool = read_models.pool
        return cls(store=store, read_models=read_models, queries=IdentityQueries(pool),
                   credentials=Credentials(pool), tokens=Tokens(pool, lifetime=token_lifetime),
                   public_url=public_url.rstrip("/"))

    @property
    def v3(self) -> str:
        return f"{self.public_url}/identity/v3"

    def caller(self, headers: Mapping[str, str]) -> Validated:
        """The validated ``X-Auth-Token`` of a request; 401 without a good one."""
        return KeystoneAuth(self.queries, self.tokens).validate(headers.get("x-auth-token"))

    def wait(self, positions: list[int]) -> None:
        """Read-your-writes: the next read must see what this request recorded."""
        if positions:
            self.read_models.wait_for(max(positions))


def is_admin(validated: Validated) -> bool:
    return idm.ADMIN in validated.payload.roles


# How identity handlers ask Litestar for the Keystone (registered under this name).
KeystoneDep = NamedDependency[Keystone]
