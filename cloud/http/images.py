"""Glance v2 (minimal) under ``/image``: version discovery, image records, their data
(``image_data``), tags and the JSON schemas clients read. Errors are Glance's."""

from typing import Any

from litestar import Request, Response, Router, delete, get, patch, post, put
from litestar.params import FromPath, RawBody

from cloud.domain.image import ImageNotFound
from cloud.http import image_context as ctx
from cloud.http import image_data, image_requests, image_views
from cloud.http.context import BackendDep, service_context
from cloud.http.faults import BadRequest
from cloud.http.image_faults import handle_exception
from cloud.http.paging import after_marker
from cloud.projections.image_queries import image_row, list_images
from cloud.services import images

Body = dict[str, Any]


# --- version discovery (no authentication) ---------------------------------------------


@get(["/", "/versions", "/v2"], sync_to_thread=False)
def list_versions(backend: BackendDep) -> Response[Body]:
    """``GET /image``: the versions, with 300 Multiple Choices as Glance answers."""
    return Response(image_views.versions(ctx.image_root(backend)), status_code=300)


# --- records --------------------------------------------------------------------------


def _shown(backend: BackendDep, image_id: str) -> Body:
    row = image_row(backend.read_models, image_id)
    if row is None:
        raise ImageNotFound(image_id)
    return image_views.image(row)


@post("/images", status_code=201, sync_to_thread=True)
def create_image(request: Request, backend: BackendDep, body: RawBody) -> Response[Body]:
    """Record a new image, ``queued`` until its data is uploaded."""
    image_id, attributes = image_requests.create_body(body)
    image_id, positions = images.create(
        backend.store, image_id=image_id, attributes=attributes,
        caller=ctx.caller(request), context=service_context(request))
    ctx.wait(backend, positions)
    return Response(_shown(backend, image_id), status_code=201, headers={
        "Location": f"{ctx.image_root(backend)}/v2/images/{image_id}"})


@get("/images", sync_to_thread=True)
def list_image_records(request: Request, backend: BackendDep) -> Body:
    """Images the caller may see, filtered, sorted and paged (``limit``, ``marker``)."""
    params = request.query_params
    query = image_requests.list_query(params, ctx.caller(request))
    page_limit = image_requests.limit(params)
    rows = after_marker(list_images(backend.read_models, query), params.get("marker"),
                        key=lambda row: row["id"])
    page = rows[:page_limit]
    more = len(rows) > page_limit > 0
    return image_views.images(page, params=params.multi_items(),
                              next_marker=page[-1]["id"] if more else None)


@get("/images/{image_id:str}", sync_to_thread=True)
def show_image(request: Request, backend: BackendDep, image_id: FromPath[str]) -> Body:
    """One image the caller may see."""
    return image_views.image(ctx.visible_row(request, backend, image_id))


@patch("/images/{image_id:str}", sync_to_thread=True)
def update_image(request: Request, backend: BackendDep, image_id: FromPath[str],
                 body: RawBody) -> Body:
    """Apply an ``application/openstack-images-v2.1-json-patch``."""
    image_requests.require_media_type(request.headers, image_requests.PATCH_MEDIA_TYPE)
    positions = images.update(backend.store, image_id, caller=ctx.caller(request),
                              operations=image_requests.patch_body(body),
                              context=service_context(request))
    ctx.wait(backend, positions)
    return _shown(backend, images.canonical_id(image_id))


@delete("/images/{image_id:str}", status_code=204, sync_to_thread=True)
def delete_image(request: Request, backend: BackendDep, image_store: ctx.ImageStoreDep,
                 image_id: FromPath[str]) -> None:
    """Delete the record and its data (403 while protected)."""
    ctx.wait(backend, images.delete(backend.store, image_store, image_id,
                                    caller=ctx.caller(request),
                                    context=service_context(request)))


def _tag(request: Request, backend: BackendDep, image_id: str, tag: str, *,
         add: bool) -> None:
    if not tag or len(tag) > 255:
        raise BadRequest("A tag has 1 to 255 characters.")
    ctx.wait(backend, images.tag(backend.store, image_id, tag, add=add,
                                 caller=ctx.caller(request), context=service_context(request)))


@put("/images/{image_id:str}/tags/{tag:str}", status_code=204, sync_to_thread=True)
def add_tag(request: Request, backend: BackendDep, image_id: FromPath[str],
            tag: FromPath[str]) -> None:
    """Tag an image."""
    _tag(request, backend, image_id, tag, add=True)


@delete("/images/{image_id:str}/tags/{tag:str}", status_code=204, sync_to_thread=True)
def remove_tag(request: Request, backend: BackendDep, image_id: FromPath[str],
               tag: FromPath[str]) -> None:
    """Untag an image (404 for a tag it does not have)."""
    _tag(request, backend, image_id, tag, add=False)


# --- schemas --------------------------------------------------------------------------


@get("/schemas/image", sync_to_thread=False)
def image_schema() -> Body:
    """The JSON schema of one image."""
    return image_views.image_schema()


@get("/schemas/images", sync_to_thread=False)
def images_schema() -> Body:
    """The JSON schema of an image listing."""
    return image_views.images_schema()


ROUTERS: list[Router] = [
    Router(path="/image", route_handlers=[list_versions],
           exception_handlers={Exception: handle_exception}),
    Router(path="/image/v2", before_request=ctx.authenticate,
           exception_handlers={Exception: handle_exception},
           route_handlers=[create_image, list_image_records, show_image, update_image,
                           delete_image, add_tag, remove_tag, image_schema, images_schema,
                           image_data.upload_image_data, image_data.download_image_data]),
]
