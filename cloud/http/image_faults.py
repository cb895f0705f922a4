"""Errors under ``/image`` in Glance's words: WebOb's JSON error document,
``{"message": "<explanation><br /><br />\\n<detail>\\n\\n", "code": "404 Not Found",
"title": "Not Found"}`` (openstacksdk reads ``message``)."""

import logging
from http import HTTPStatus

from litestar import MediaType, Request, Response

from cloud.adapters.imagestore import DataMismatch, ImageTooLarge
from cloud.domain.image_rules import ImageConflict, ImageForbidden
from cloud.http import faults

log = logging.getLogger(__name__)

# Refusals only the image service gives, on top of those every API gives (faults.py).
IMAGE_STATUS: dict[type[Exception], int] = {
    ImageForbidden: 403,
    ImageConflict: 409,
    ImageTooLarge: 413,
    DataMismatch: 400,
}

# WebOb's explanation per status (its title is the status phrase).
_EXPLANATIONS = {
    400: "The server could not comply with the request since it is either malformed or"
         " otherwise incorrect.",
    401: "This server could not verify that you are authorized to access the document"
         " you requested.",
    403: "Access was denied to this resource.",
    404: "The resource could not be found.",
    405: "The method is not allowed for this resource.",
    409: "There was a conflict when trying to complete your request.",
    413: "The body of your request was too large for this server.",
    415: "The request media type is not supported by this server.",
    500: "The server has either erred or is incapable of performing the requested"
         " operation.",
}


def fault_body(status: int, detail: str) -> dict[str, str]:
    """The JSON of an error response, as Glance (through WebOb) writes it."""
    title = HTTPStatus(status).phrase
    explanation = _EXPLANATIONS.get(status, _EXPLANATIONS[500])
    return {"message": f"{explanation}<br /><br />\n{detail}\n\n",
            "code": f"{status} {title}", "title": title}


def fault_response(status: int, detail: str,
                   headers: dict[str, str] | None = None) -> Response:
    """An error response in Glance's format."""
    return Response(content=fault_body(status, detail), status_code=status,
                    media_type=MediaType.JSON, headers=headers)


def describe(exc: Exception) -> faults.Described | None:
    """The status and detail of an expected exception; ``None`` for a bug."""
    for kind in type(exc).__mro__:
        if kind in IMAGE_STATUS:
            return faults.Described(IMAGE_STATUS[kind], str(exc))
    return faults.describe(exc)


def handle_exception(request: Request, exc: Exception) -> Response:
    """Map any exception raised under ``/image`` to a Glance error response."""
    described = describe(exc)
    if described is not None:
        return fault_response(described.status, described.message, described.headers)
    log.error("unexpected error serving %s %s", request.method, request.url.path,
              exc_info=exc)
    return fault_response(500, f"Unexpected error: {type(exc).__name__}")
