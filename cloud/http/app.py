"""The compute API application: Nova's v2.1 REST API under ``/compute``."""

import datetime as dt
from pathlib import Path

from litestar import Litestar, Request, Router
from litestar.datastructures import MutableScopeHeaders, State
from litestar.di import Provide
from litestar.types import Message, Scope

from cloud.adapters.consoles import ConsoleClient
from cloud.adapters.eventstore import EventStore
from cloud.adapters.imagestore import ImageStore
from cloud.adapters.tokens import DEFAULT_LIFETIME
from cloud.http import server_actions
from cloud.http import instance_actions
from cloud.http import hosts, hypervisors, services as compute_services
from cloud.http import flavor_extras
from cloud.http import aggregates, availability_zones, server_groups
from cloud.http import server_metadata, server_tags, server_update
from cloud.http import events
from cloud.http import tenant_usage
from cloud.http import flavors, identity, images, keypairs, microversions, quotas, servers, versions
from cloud.http.context import IDENTITY_KEY, Authenticator, Backend, NoAuth, request_id
from cloud.http.faults import handle_exception
from cloud.http.identity_auth import Keystone
from cloud.http.image_context import AUTHENTICATE, IMAGE_STORE
from cloud.http.views import Links
from cloud.projections.queries import ReadModels

REQUEST_ID_HEADERS = ("x-openstack-request-id", "x-compute-request-id")
DEFAULT_IMAGE_DIR = Path(".cloud/images")


def authenticate_with(authenticator: Authenticator):
    """A before-request hook recording who the caller is (401 when nobody)."""
    async def authenticate(request: Request) -> None:
        request.scope.setdefault("state", {})[IDENTITY_KEY] = (
            authenticator.authenticate(request.headers))
    return authenticate


async def negotiate_version(request: Request) -> None:
    """Record the microversion asked for, refusing malformed or unsupported ones."""
    version = microversions.requested(request.headers)
    request.scope.setdefault("state", {})[microversions.STATE_KEY] = version


async def add_standard_headers(message: Message, scope: Scope) -> None:
    """Every response, errors included, names its request and microversion."""
    if message["type"] != "http.response.start":
        return
    headers = MutableScopeHeaders.from_message(message)
    rid = request_id(scope)  # type: ignore[arg-type]
    for name in REQUEST_ID_HEADERS:
        headers[name] = rid
    version = microversions.negotiated(scope)  # type: ignore[arg-type]
    for name, value in microversions.response_headers(version).items():
        headers[name] = value


def _v21_router(authenticator: Authenticator) -> Router:
    authenticate = authenticate_with(authenticator)

    async def before(request: Request) -> None:
        await negotiate_version(request)
        if request.scope["path"].rstrip("/") != "/compute/v2.1":  # version doc: no auth
            await authenticate(request)

    return Router(
        path="/compute/v2.1",
        before_request=before,
        route_handlers=[
            versions.show_v21,
            *flavors.HANDLERS, *flavor_extras.HANDLERS,
            servers.create_server, servers.list_servers, servers.list_servers_detail,
            servers.show_server, servers.delete_server,
            *keypairs.HANDLERS, *quotas.HANDLERS, *server_actions.HANDLERS,
            *compute_services.HANDLERS, *hypervisors.HANDLERS, *hosts.HANDLERS,
            *instance_actions.HANDLERS,
            *aggregates.HANDLERS, *availability_zones.HANDLERS, *server_groups.HANDLERS,
            *server_update.HANDLERS, *server_metadata.HANDLERS, *server_tags.HANDLERS,
            *tenant_usage.HANDLERS,
        ],
    )


def create_app(*, store: EventStore, read_models: ReadModels,
               public_url: str = "http://127.0.0.1:8774",
               authenticator: Authenticator | None = None,
               token_lifetime: dt.timedelta = DEFAULT_LIFETIME,
               image_store: ImageStore | None = None,
               consoles: ConsoleClient | None = None) -> Litestar:
    """The ASGI app serving the compute API from the given log and read models.

    Without an authenticator every request is trusted as ``NoAuth`` describes; the
    identity API under ``/identity`` always uses its own tokens. Without ``consoles``
    (a NATS client to the compute hosts) console output answers 501.
    """
    authenticator = authenticator or NoAuth()
    image_files = image_store or ImageStore(DEFAULT_IMAGE_DIR)
    backend = Backend(store=store, read_models=read_models, links=Links(public_url),
                      consoles=consoles)
    keystone = Keystone.build(store=store, read_models=read_models, public_url=public_url,
                              token_lifetime=token_lifetime)
    return Litestar(
        route_handlers=[Router(path="/compute", route_handlers=[versions.list_versions]),
                        _v21_router(authenticator), *identity.ROUTERS, *images.ROUTERS,
                        events.router(authenticate_with(authenticator))],
        dependencies={"backend": Provide(lambda: backend, use_cache=True,
                                         sync_to_thread=False),
                      "keystone": Provide(lambda: keystone, use_cache=True,
                                          sync_to_thread=False),
                      IMAGE_STORE: Provide(lambda: image_files, use_cache=True,
                                           sync_to_thread=False)},
        state=State({AUTHENTICATE: authenticate_with(authenticator)}),
        exception_handlers={Exception: handle_exception},
        before_send=[add_standard_headers],
        openapi_config=None,
    )
