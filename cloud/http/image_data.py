"""``/v2/images/{id}/file``: image data in and out, streamed, never held in memory.

Compute agents will fetch image data the same way users do: ``GET
/image/v2/images/{id}/file`` with a service token (a later issue wires the agent side).
The download reads the file in 1 MiB chunks in a worker thread, announces the exact
``Content-Length`` and gives the MD5 in ``Content-MD5`` (hex, as Glance does), so an
agent can stream to disk and verify what it wrote.
"""

import base64
import binascii
import functools
import os
from collections.abc import Callable
from typing import Any

import anyio.to_thread
from litestar import Request, Response, get, put
from litestar.params import FromPath
from litestar.response import Stream

from cloud.adapters.imagestore import CHUNK, Staging, chunks
from cloud.domain.image import Digest
from cloud.http import image_context as ctx
from cloud.http.context import BackendDep, service_context
from cloud.http.faults import BadRequest
from cloud.http.image_requests import OCTET_STREAM, require_media_type
from cloud.services import images


async def _in_thread(function: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    return await anyio.to_thread.run_sync(functools.partial(function, *args, **kwargs))


def _announced_size(request: Request) -> int | None:
    raw = request.headers.get("x-openstack-image-size")
    if raw is None:
        return None
    if not raw.isdigit():
        raise BadRequest(f"Invalid X-OpenStack-Image-Size: {raw!r}")
    return int(raw)


def _announced_md5(request: Request) -> str | None:
    """``Content-MD5`` as hex; RFC 1864 says base64, Glance's clients use hex."""
    raw = request.headers.get("content-md5")
    if raw is None or len(raw) == 32:
        return raw
    try:
        return base64.b64decode(raw, validate=True).hex()
    except (binascii.Error, ValueError):
        raise BadRequest(f"Invalid Content-MD5: {raw!r}") from None


async def _receive(request: Request, staging: Staging) -> Digest:
    """Stream the body into the staging file, a megabyte per trip to a worker thread."""
    pending = bytearray()
    async for chunk in request.stream():
        pending += chunk
        if len(pending) >= CHUNK:
            await _in_thread(staging.write, pending)
            pending = bytearray()
    await _in_thread(staging.write, pending)
    return await _in_thread(staging.finish, expected_size=_announced_size(request),
                            expected_md5=_announced_md5(request))


@put("/images/{image_id:str}/file", status_code=204, request_max_body_size=None)
async def upload_image_data(request: Request, backend: BackendDep,
                            image_store: ctx.ImageStoreDep, image_id: FromPath[str]) -> None:
    """Store the image's data and record it: ``queued`` becomes ``active``."""
    require_media_type(request.headers, OCTET_STREAM)
    caller = ctx.caller(request)
    await _in_thread(images.check_upload, backend.store, image_id, caller=caller)
    staging = await _in_thread(image_store.stage, image_id)
    try:
        digest = await _receive(request, staging)
    except BaseException:
        await _in_thread(staging.discard)
        raise
    positions = await _in_thread(
        images.upload, backend.store, image_store, image_id, staging=staging, digest=digest,
        caller=caller, context=service_context(request))
    await _in_thread(ctx.wait, backend, positions)


@get("/images/{image_id:str}/file", sync_to_thread=True)
def download_image_data(request: Request, backend: BackendDep, image_store: ctx.ImageStoreDep,
                        image_id: FromPath[str]) -> Response[Any]:
    """The image's data, streamed; 204 when it has none (yet)."""
    row = ctx.visible_row(request, backend, image_id)
    data = image_store.open(row["id"]) if row["checksum"] is not None else None
    if data is None:
        return Response(None, status_code=204)
    return Stream(chunks(data), media_type=OCTET_STREAM, headers={
        "Content-MD5": row["checksum"],
        "Content-Length": str(os.fstat(data.fileno()).st_size)})
