"""Who is asking, under which request id, and what the handlers work with."""

import uuid
from collections.abc import Mapping, MutableMapping
from dataclasses import dataclass
from typing import Any, Protocol

from litestar import Request
from litestar.di import NamedDependency

from cloud.adapters.consoles import ConsoleClient
from cloud.adapters.eventstore import EventStore
from cloud.domain.envelope import Actor, Context
from cloud.http.views import Links
from cloud.projections.queries import ReadModels
from cloud.util import utcnow

REQUEST_ID_KEY = "request_id"
IDENTITY_KEY = "identity"


@dataclass(frozen=True)
class Identity:
    """The authenticated caller: who, in which project, with which roles."""

    user_id: str
    project_id: str
    roles: frozenset[str]
    user_name: str = ""
    project_name: str = ""
    domain_id: str = "default"

    @property
    def is_admin(self) -> bool:
        return "admin" in self.roles

    @property
    def can_write(self) -> bool:
        """Members and admins act; readers only look."""
        return self.is_admin or "member" in self.roles


class Authenticator(Protocol):
    """Turns a request's credentials into an Identity, or raises Unauthorized (401)."""

    def authenticate(self, headers: Mapping[str, str]) -> Identity: ...


class NoAuth:
    """Nova's ``noauth2`` for development and tests: trusts ``X-Auth-User``,
    ``X-Auth-Project-Id`` and ``X-Roles`` headers, defaulting to an admin."""

    def authenticate(self, headers: Mapping[str, str]) -> Identity:
        user = headers.get("x-auth-user") or "admin"
        project = headers.get("x-auth-project-id") or user
        roles = headers.get("x-roles") or "admin,member,reader"
        return Identity(user_id=user, project_id=project, user_name=user,
                        project_name=project,
                        roles=frozenset(r.strip() for r in roles.split(",") if r.strip()))


@dataclass(frozen=True)
class Backend:
    """The stores a handler reads and writes, and how it names resources in links."""

    store: EventStore
    read_models: ReadModels
    links: Links
    # Asks compute hosts for what only they know (console logs); None: not connected.
    consoles: ConsoleClient | None = None


# How handlers ask Litestar for the backend (registered under this name by the app).
BackendDep = NamedDependency[Backend]


def request_id(scope: MutableMapping[str, Any]) -> str:
    """This request's ``req-<uuid>``, made on first use and the same ever after."""
    state = scope.setdefault("state", {})
    if REQUEST_ID_KEY not in state:
        state[REQUEST_ID_KEY] = f"req-{uuid.uuid4()}"
    return state[REQUEST_ID_KEY]


def identity(request: Request) -> Identity:
    """The caller, as authenticated for this request by the app's Authenticator."""
    return request.scope["state"][IDENTITY_KEY]  # type: ignore[index]


def service_context(request: Request) -> Context:
    """What the services record alongside the events this request causes."""
    caller = identity(request)
    return Context(request_id=request_id(request.scope),  # type: ignore[arg-type]
                   actor=Actor(user_id=caller.user_id, project_id=caller.project_id),
                   timestamp=utcnow())
