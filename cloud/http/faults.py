"""The one place where exceptions become Nova fault bodies: ``{"<name>": {code, message}}``."""

import logging
from typing import NamedTuple

from litestar import MediaType, Request, Response
from litestar.exceptions import HTTPException, MethodNotAllowedException, NotFoundException

from cloud.domain.errors import (
    Conflict,
    DomainError,
    Duplicate,
    Invalid,
    InstanceLocked,
    InvalidTransition,
    NotAllowed,
    NotFound,
    QuotaExceeded,
)

log = logging.getLogger(__name__)

# Nova's names for fault bodies; every other status is a computeFault.
FAULT_NAMES = {
    400: "badRequest",
    401: "unauthorized",
    403: "forbidden",
    404: "itemNotFound",
    405: "badMethod",
    409: "conflictingRequest",
    413: "overLimit",
    415: "badMediaType",
    429: "overLimit",
    501: "notImplemented",
    503: "serviceUnavailable",
}

DOMAIN_STATUS: dict[type[DomainError], int] = {
    NotFound: 404,
    Invalid: 400,
    InvalidTransition: 409,
    InstanceLocked: 409,
    NotAllowed: 403,
    Conflict: 409,
    Duplicate: 409,
    QuotaExceeded: 403,
}


class ApiFault(Exception):
    """A refusal decided at the HTTP edge (bad input, unknown reference, bad version)."""

    status = 400

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class BadRequest(ApiFault):
    status = 400


class Unauthorized(ApiFault):
    status = 401


class Forbidden(ApiFault):
    status = 403


class ItemNotFound(ApiFault):
    status = 404


class NotAcceptable(ApiFault):
    status = 406


class Unimplemented(ApiFault):
    status = 501


def fault_body(status: int, message: str) -> dict[str, dict[str, object]]:
    """Nova's JSON for an error response."""
    return {FAULT_NAMES.get(status, "computeFault"): {"code": status, "message": message}}


def fault_response(status: int, message: str,
                   headers: dict[str, str] | None = None) -> Response:
    return Response(content=fault_body(status, message), status_code=status,
                    media_type=MediaType.JSON, headers=headers)


class Described(NamedTuple):
    status: int
    message: str
    headers: dict[str, str] | None = None


def _domain_status(exc: DomainError) -> int | None:
    for kind in type(exc).__mro__:
        if kind in DOMAIN_STATUS:
            return DOMAIN_STATUS[kind]
    return None


def _http_exception(exc: HTTPException) -> Described:
    """Litestar's own refusals: unknown route, wrong method, undecodable parameters."""
    if isinstance(exc, NotFoundException):
        message = "The resource could not be found."
    elif isinstance(exc, MethodNotAllowedException):
        message = "The method is not allowed for the requested URL."
    else:
        message = str(exc.detail)
        if exc.extra:
            message = f"{message}: {exc.extra}"
    return Described(exc.status_code, message, exc.headers)


def describe(exc: Exception) -> Described | None:
    """The fault an expected exception maps to; ``None`` for a bug."""
    if isinstance(exc, ApiFault):
        return Described(exc.status, exc.message)
    if isinstance(exc, HTTPException):
        return _http_exception(exc)
    status = _domain_status(exc) if isinstance(exc, DomainError) else None
    return None if status is None else Described(status, str(exc))


def handle_exception(request: Request, exc: Exception) -> Response:
    """Map any exception raised while serving a request to a Nova fault response."""
    described = describe(exc)
    if described is not None:
        return fault_response(described.status, described.message, described.headers)
    log.error("unexpected error serving %s %s", request.method, request.url.path,
              exc_info=exc)
    return fault_response(500, "Unexpected API Error. Please report this to the cloud"
                               " operators and attach the API log if possible.\n"
                               f"{type(exc)}")
