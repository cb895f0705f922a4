"""``/servers/{id}/tags`` (from microversion 2.26; a bare 404 before it)."""

from typing import Any

from litestar import Request, Response, delete, get, put
from litestar.exceptions import NotFoundException
from litestar.params import FromPath, RawBody

from cloud.http import microversions, server_fields
from cloud.http.context import Backend, BackendDep, service_context
from cloud.http.faults import ItemNotFound
from cloud.http.server_update import json_object, visible, wait
from cloud.services import server_edits

RULE = "os_compute_api:os-server-tags:"
SINCE = (2, 26)
Row = dict[str, Any]


def _server(request: Request, backend: Backend, server_id: str, action: str) -> Row:
    # These routes do not exist before 2.26: the same 404 as an unknown URL.
    if microversions.negotiated(request.scope) < SINCE:
        raise NotFoundException()
    return visible(request, backend, server_id, RULE + action)


def _tags_now(backend: Backend, row: Row) -> list[str]:
    current = backend.read_models.server(row["id"]) or row
    return list(current["tags"])


@get("/servers/{server_id:str}/tags", sync_to_thread=True)
def list_tags(request: Request, backend: BackendDep,
              server_id: FromPath[str]) -> dict[str, Any]:
    return {"tags": list(_server(request, backend, server_id, "index")["tags"])}


@put("/servers/{server_id:str}/tags", status_code=200, sync_to_thread=True)
def replace_tags(request: Request, backend: BackendDep, server_id: FromPath[str],
                 body: RawBody) -> dict[str, Any]:
    """These tags and no others."""
    row = _server(request, backend, server_id, "update_all")
    tags = server_fields.tags(json_object(body, "tags"))
    wait(backend, server_edits.set_tags(backend.store, row["id"], tags,
                                        context=service_context(request)))
    return {"tags": _tags_now(backend, row)}


@delete("/servers/{server_id:str}/tags", status_code=204, sync_to_thread=True)
def delete_tags(request: Request, backend: BackendDep, server_id: FromPath[str]) -> None:
    row = _server(request, backend, server_id, "delete_all")
    wait(backend, server_edits.delete_tags(backend.store, row["id"],
                                           context=service_context(request)))


@get("/servers/{server_id:str}/tags/{tag:str}", status_code=204, sync_to_thread=True)
def check_tag(request: Request, backend: BackendDep, server_id: FromPath[str],
              tag: FromPath[str]) -> None:
    """204 when the server has the tag, 404 when not."""
    row = _server(request, backend, server_id, "show")
    if tag not in row["tags"]:
        raise ItemNotFound(f"Server {server_id} has no tag '{tag}'")


@put("/servers/{server_id:str}/tags/{tag:str}", sync_to_thread=True)
def add_tag(request: Request, backend: BackendDep, server_id: FromPath[str],
            tag: FromPath[str]) -> Response[None]:
    """201 with the tag's location when new, 204 when the server had it already."""
    row = _server(request, backend, server_id, "update")
    added, positions = server_edits.add_tag(backend.store, row["id"],
                                            server_fields.tag(tag),
                                            context=service_context(request))
    wait(backend, positions)
    if not added:
        return Response(None, status_code=204)
    location = backend.links.self_href("servers", f"{row['id']}/tags/{tag}")
    return Response(None, status_code=201, headers={"Location": location})


@delete("/servers/{server_id:str}/tags/{tag:str}", status_code=204, sync_to_thread=True)
def delete_tag(request: Request, backend: BackendDep, server_id: FromPath[str],
               tag: FromPath[str]) -> None:
    row = _server(request, backend, server_id, "delete")
    wait(backend, server_edits.delete_tag(backend.store, row["id"], tag,
                                          context=service_context(request)))


HANDLERS = [list_tags, replace_tags, delete_tags, check_tag, add_tag, delete_tag]
