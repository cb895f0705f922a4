"""``/servers/{id}/metadata``: a server's key/value metadata, all of it or one item."""

from typing import Any

from litestar import Request, delete, get, post, put
from litestar.params import FromPath, RawBody

from cloud.http import server_fields
from cloud.http.context import Backend, BackendDep, identity, service_context
from cloud.http.faults import BadRequest, ItemNotFound
from cloud.http.server_update import json_object, visible, wait
from cloud.services import server_edits

RULE = "os_compute_api:server-metadata:"
ITEM_NOT_FOUND = "Metadata item was not found"


def _set(request: Request, backend: Backend, server_id: str, items: dict[str, str], *,
         rule: str, replace: bool) -> dict[str, str]:
    """Record the change and answer with the server's metadata as it is now."""
    row = visible(request, backend, server_id, RULE + rule)
    wait(backend, server_edits.set_metadata(
        backend.store, row["id"], items, replace=replace,
        is_admin=identity(request).is_admin, context=service_context(request)))
    current = backend.read_models.server(row["id"]) or row
    return current["metadata"]


@get("/servers/{server_id:str}/metadata", sync_to_thread=True)
def list_metadata(request: Request, backend: BackendDep,
                  server_id: FromPath[str]) -> dict[str, Any]:
    row = visible(request, backend, server_id, RULE + "index")
    return {"metadata": row["metadata"]}


@put("/servers/{server_id:str}/metadata", status_code=200, sync_to_thread=True)
def replace_metadata(request: Request, backend: BackendDep, server_id: FromPath[str],
                     body: RawBody) -> dict[str, Any]:
    """Replace every item: keys not in the body are removed."""
    items = server_fields.metadata("metadata", json_object(body, "metadata"))
    return {"metadata": _set(request, backend, server_id, items, rule="update_all",
                             replace=True)}


@post("/servers/{server_id:str}/metadata", status_code=200, sync_to_thread=True)
def merge_metadata(request: Request, backend: BackendDep, server_id: FromPath[str],
                   body: RawBody) -> dict[str, Any]:
    """Add or change the items given; the others stay."""
    items = server_fields.metadata("metadata", json_object(body, "metadata"))
    return {"metadata": _set(request, backend, server_id, items, rule="create",
                             replace=False)}


@get("/servers/{server_id:str}/metadata/{key:str}", sync_to_thread=True)
def show_metadata_item(request: Request, backend: BackendDep, server_id: FromPath[str],
                       key: FromPath[str]) -> dict[str, Any]:
    row = visible(request, backend, server_id, RULE + "show")
    if key not in row["metadata"]:
        raise ItemNotFound(ITEM_NOT_FOUND)
    return {"meta": {key: row["metadata"][key]}}


@put("/servers/{server_id:str}/metadata/{key:str}", status_code=200, sync_to_thread=True)
def set_metadata_item(request: Request, backend: BackendDep, server_id: FromPath[str],
                      key: FromPath[str], body: RawBody) -> dict[str, Any]:
    """Set one item: the body names exactly the key of the URL."""
    meta = server_fields.metadata("meta", json_object(body, "meta"))
    if len(meta) != 1:
        raise BadRequest(f"Invalid input for field/attribute meta. Value: {meta}."
                         f" {meta} should have exactly one property")
    if key not in meta:
        raise BadRequest("Request body and URI mismatch")
    _set(request, backend, server_id, meta, rule="update", replace=False)
    return {"meta": meta}


@delete("/servers/{server_id:str}/metadata/{key:str}", status_code=204,
        sync_to_thread=True)
def delete_metadata_item(request: Request, backend: BackendDep, server_id: FromPath[str],
                         key: FromPath[str]) -> None:
    row = visible(request, backend, server_id, RULE + "delete")
    if key not in row["metadata"]:
        raise ItemNotFound(ITEM_NOT_FOUND)
    wait(backend, server_edits.delete_metadata_item(
        backend.store, row["id"], key, is_admin=identity(request).is_admin,
        context=service_context(request)))


HANDLERS = [list_metadata, replace_metadata, merge_metadata, show_metadata_item,
            set_metadata_item, delete_metadata_item]
