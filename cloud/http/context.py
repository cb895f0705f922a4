"""Who is asking, under which request id, and what the handlers work with."""

import uuid
from collections.abc import MutableMapping
from dataclasses import dataclass
from typing import Any

from litestar import Request
from litestar.di import NamedDependency

from cloud.adapters.eventstore import EventStore
from cloud.domain.envelope import Actor, Context
from cloud.http.views import Links
from cloud.projections.queries import ReadModels
from cloud.util import utcnow

# No authentication yet: every caller is this admin (identity arrives in a later issue).
ANONYMOUS_PROJECT = "admin"
ANONYMOUS_USER = "admin"

REQUEST_ID_KEY = "request_id"


@dataclass(frozen=True)
class Identity:
    user_id: str
    project_id: str
    is_admin: bool


ANONYMOUS = Identity(user_id=ANONYMOUS_USER, project_id=ANONYMOUS_PROJECT, is_admin=True)


@dataclass(frozen=True)
class Backend:
    """The stores a handler reads and writes, and how it names resources in links."""

    store: EventStore
    read_models: ReadModels
    links: Links


# How handlers ask Litestar for the backend (registered under this name by the app).
BackendDep = NamedDependency[Backend]


def request_id(scope: MutableMapping[str, Any]) -> str:
    """This request's ``req-<uuid>``, made on first use and the same ever after."""
    state = scope.setdefault("state", {})
    if REQUEST_ID_KEY not in state:
        state[REQUEST_ID_KEY] = f"req-{uuid.uuid4()}"
    return state[REQUEST_ID_KEY]


def identity(request: Request) -> Identity:
    """The caller (always the anonymous admin until authentication lands)."""
    return ANONYMOUS


def service_context(request: Request) -> Context:
    """What the services record alongside the events this request causes."""
    caller = identity(request)
    return Context(request_id=request_id(request.scope),  # type: ignore[arg-type]
                   actor=Actor(user_id=caller.user_id, project_id=caller.project_id),
                   timestamp=utcnow())
