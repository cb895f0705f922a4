"""Keystone v3 (minimal) under ``/identity``: versions, tokens, and the admin API.

The identity API always authenticates with its own tokens (Keystone has no "noauth"),
whatever Authenticator the compute API uses. Its errors are Keystone's JSON:
``{"error": {"code": 401, "title": "Unauthorized", "message": "..."}}``.
"""

import logging

from litestar import MediaType, Request, Response, Router

from cloud.http import identity_admin, identity_roles, identity_tokens
from cloud.http.faults import describe
from cloud.services.auth import Unauthenticated

log = logging.getLogger(__name__)

TITLES = {400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found",
          405: "Method Not Allowed", 409: "Conflict", 415: "Unsupported Media Type",
          500: "Internal Server Error"}


def error_response(status: int, message: str) -> Response:
    """Keystone's JSON for an error."""
    body = {"error": {"code": status, "title": TITLES.get(status, "Error"),
                      "message": message}}
    return Response(content=body, status_code=status, media_type=MediaType.JSON)


def handle_exception(request: Request, exc: Exception) -> Response:
    """Map any exception raised under ``/identity`` to a Keystone error."""
    if isinstance(exc, Unauthenticated):
        return error_response(401, exc.message)
    described = describe(exc)
    if described is not None:
        return error_response(described.status, described.message)
    log.error("unexpected error serving %s %s", request.method, request.url.path,
              exc_info=exc)
    return error_response(500, "An unexpected error prevented the server from fulfilling"
                               " your request.")


ROUTERS: list = [Router(
    path="/identity",
    route_handlers=[*identity_tokens.HANDLERS, *identity_admin.HANDLERS,
                    *identity_roles.HANDLERS],
    exception_handlers={Exception: handle_exception},
)]
