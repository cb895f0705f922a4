"""``/os-aggregates`` (admin): host aggregates and the availability zones they make.

Create, list, show, update (name, zone), delete (only when empty: 400 otherwise, as
Nova), and the actions ``add_host``, ``remove_host``, ``set_metadata``. Ids are
integers; 2.41 adds each aggregate's ``uuid``.
"""

import re
from typing import Annotated, Any

import msgspec
from litestar import Request, Response, delete, get, post, put
from litestar.exceptions import NotFoundException
from litestar.params import FromPath, RawBody

from cloud.domain.aggregate import AggregateNotFound
from cloud.http import policy, views
from cloud.http.context import Backend, BackendDep, identity, service_context
from cloud.http.faults import BadRequest
from cloud.http.microversions import APIVersion, negotiated
from cloud.projections.aggregate_queries import AggregateQueries
from cloud.projections.image_queries import image_row
from cloud.services import aggregates, image_cache

V2_41, V2_81 = APIVersion(2, 41), APIVersion(2, 81)
_UUID = r"^[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}$"
Row = dict[str, Any]
Name = Annotated[str, msgspec.Meta(min_length=1, max_length=255)]
Host = Annotated[str, msgspec.Meta(min_length=1, max_length=255,
                                   pattern=r"^[a-zA-Z0-9-._]*$")]
MetadataKey = Annotated[str, msgspec.Meta(pattern=r"^[a-zA-Z0-9-_:. ]{1,255}$")]
MetadataValue = Annotated[str, msgspec.Meta(max_length=255)] | None


class _Fields(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    name: Name | msgspec.UnsetType = msgspec.UNSET
    availability_zone: Name | None | msgspec.UnsetType = msgspec.UNSET


class _Body(msgspec.Struct, forbid_unknown_fields=True):
    aggregate: _Fields


class _HostRef(msgspec.Struct, forbid_unknown_fields=True):
    host: Host


class _Metadata(msgspec.Struct, forbid_unknown_fields=True):
    metadata: dict[MetadataKey, MetadataValue]


class _Action(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    add_host: _HostRef | msgspec.UnsetType = msgspec.UNSET
    remove_host: _HostRef | msgspec.UnsetType = msgspec.UNSET
    set_metadata: _Metadata | msgspec.UnsetType = msgspec.UNSET


_body_decoder, _action_decoder = msgspec.json.Decoder(_Body), msgspec.json.Decoder(_Action)


# --- parsing --------------------------------------------------------------------------


def _decode(decoder: msgspec.json.Decoder, body: bytes) -> Any:
    try:
        return decoder.decode(body)
    except (msgspec.ValidationError, msgspec.DecodeError) as error:
        raise BadRequest(f"Invalid input for the request body: {error}") from None


def _name(value: str, *, strip: bool) -> str:
    """Printable; leading or trailing whitespace refused on create, stripped on update."""
    if not value.isprintable() or not value.strip():
        raise BadRequest(f"Invalid input for field/attribute name. Value: {value}.")
    if value != value.strip() and not strip:
        raise BadRequest(f"Invalid input for field/attribute name. Value: {value}."
                         " Can not start or end with whitespace.")
    return value.strip()


def _zone(value: str | None | msgspec.UnsetType) -> str | None | msgspec.UnsetType:
    """A zone name: printable, no ``:``, no surrounding whitespace."""
    if not isinstance(value, str):
        return value
    if ":" in value or not value.isprintable() or value != value.strip() or not value:
        raise BadRequest(f"Invalid input for field/attribute availability_zone. Value:"
                         f" {value}. printable characters except :. Can not start or"
                         " end with whitespace.")
    return value


def _id(raw: str) -> int:
    if not re.fullmatch(r"-?\d+", raw.strip()):
        raise BadRequest("Invalid input received: id must be an integer")
    return int(raw)


def _authorize(request: Request, action: str) -> None:
    policy.authorize(identity(request), f"os_compute_api:os-aggregates:{action}")


def _queries(backend: Backend) -> AggregateQueries:
    return AggregateQueries(backend.read_models.pool)


def _existing(backend: Backend, aggregate_id: str) -> Row:
    row = _queries(backend).aggregate(_id(aggregate_id))
    if row is None:
        raise AggregateNotFound(aggregate_id)
    return row


def _wait_and_show(backend: Backend, aggregate_uuid: str, positions: list[int]) -> Row:
    if positions:
        backend.read_models.wait_for(max(positions))
    return _queries(backend).aggregate_by_uuid(aggregate_uuid) or {}


# --- views ----------------------------------------------------------------------------


def aggregate_view(row: Row, version: APIVersion, *, full: bool = True) -> dict[str, Any]:
    """An aggregate as Nova shows it (create leaves out hosts and metadata)."""
    shown = {"availability_zone": row["metadata"].get("availability_zone"),
             "created_at": views.usage_time(row["created_at"]), "deleted": False,
             "deleted_at": None, "id": row["id"], "name": row["name"],
             "updated_at": views.usage_time(row["updated_at"])}
    if full:
        shown.update(hosts=list(row["hosts"]), metadata=dict(row["metadata"]))
    if version >= V2_41:
        shown["uuid"] = row["uuid"]
    return shown


def _answer(request: Request, row: Row) -> dict[str, Any]:
    return {"aggregate": aggregate_view(row, negotiated(request.scope))}


# --- handlers -------------------------------------------------------------------------


@get("/os-aggregates", sync_to_thread=True)
def list_aggregates(request: Request, backend: BackendDep) -> dict[str, Any]:
    _authorize(request, "index")
    version = negotiated(request.scope)
    return {"aggregates": [aggregate_view(row, version)
                           for row in _queries(backend).aggregates()]}


@post("/os-aggregates", status_code=200, sync_to_thread=True)
def create_aggregate(request: Request, backend: BackendDep, body: RawBody) -> dict[str, Any]:
    """A new aggregate, maybe an availability zone (200, as Nova)."""
    _authorize(request, "create")
    fields = _decode(_body_decoder, body).aggregate
    if fields.name is msgspec.UNSET:
        raise BadRequest("Invalid input for field/attribute aggregate. 'name' is a"
                         " required property")
    zone = _zone(fields.availability_zone)
    aggregate_uuid, positions = aggregates.create(
        backend.store, name=_name(fields.name, strip=False),
        availability_zone=zone or None, context=service_context(request))
    row = _wait_and_show(backend, aggregate_uuid, positions)
    return {"aggregate": aggregate_view(row, negotiated(request.scope), full=False)}


@get("/os-aggregates/{aggregate_id:str}", sync_to_thread=True)
def show_aggregate(request: Request, backend: BackendDep,
                   aggregate_id: FromPath[str]) -> dict[str, Any]:
    _authorize(request, "show")
    return _answer(request, _existing(backend, aggregate_id))


@put("/os-aggregates/{aggregate_id:str}", sync_to_thread=True)
def update_aggregate(request: Request, backend: BackendDep, aggregate_id: FromPath[str],
                     body: RawBody) -> dict[str, Any]:
    """A new name and/or zone."""
    _authorize(request, "update")
    fields = _decode(_body_decoder, body).aggregate
    if fields.name is msgspec.UNSET and fields.availability_zone is msgspec.UNSET:
        raise BadRequest("Invalid input for field/attribute aggregate. At least one of"
                         " 'name' or 'availability_zone' is required.")
    row = _existing(backend, aggregate_id)
    name = None if fields.name is msgspec.UNSET else _name(fields.name, strip=True)
    positions = aggregates.update(
        backend.store, _queries(backend), row["uuid"], aggregate_id, name=name,
        availability_zone=_zone(fields.availability_zone), context=service_context(request))
    return _answer(request, _wait_and_show(backend, row["uuid"], positions))


@delete("/os-aggregates/{aggregate_id:str}", status_code=200, sync_to_thread=True)
def delete_aggregate(request: Request, backend: BackendDep,
                     aggregate_id: FromPath[str]) -> Response[bytes]:
    """Only an empty aggregate (200 with no body, as Nova)."""
    _authorize(request, "delete")
    row = _existing(backend, aggregate_id)
    positions = aggregates.delete(backend.store, row["uuid"], aggregate_id,
                                  context=service_context(request))
    if positions:
        backend.read_models.wait_for(max(positions))
    return Response(content=b"", status_code=200)


@post("/os-aggregates/{aggregate_id:str}/action", status_code=200, sync_to_thread=True)
def aggregate_action(request: Request, backend: BackendDep, aggregate_id: FromPath[str],
                     body: RawBody) -> dict[str, Any]:
    """``add_host``, ``remove_host`` or ``set_metadata``: exactly one per request."""
    action = _decode(_action_decoder, body)
    given = [name for name in ("add_host", "remove_host", "set_metadata")
             if getattr(action, name) is not msgspec.UNSET]
    if len(given) != 1:
        raise BadRequest("Invalid input for the request body: exactly one of add_host,"
                         " remove_host or set_metadata is required.")
    _authorize(request, given[0])
    row = _existing(backend, aggregate_id)
    positions = _act(backend, row["uuid"], aggregate_id, action, service_context(request))
    return _answer(request, _wait_and_show(backend, row["uuid"], positions))


def _act(backend: Backend, aggregate_uuid: str, key: str, action: _Action,
         context) -> list[int]:
    store, queries = backend.store, _queries(backend)
    if isinstance(action.add_host, _HostRef):
        return aggregates.add_host(store, queries, aggregate_uuid, key, action.add_host.host,
                                   context=context)
    if isinstance(action.remove_host, _HostRef):
        return aggregates.remove_host(store, aggregate_uuid, key, action.remove_host.host,
                                      context=context)
    metadata = action.set_metadata.metadata  # type: ignore[union-attr]
    return aggregates.set_metadata(store, queries, aggregate_uuid, key, metadata,
                                   context=context)


# --- image precache (2.81) -----------------------------------------------------------


class _ImageRef(msgspec.Struct, forbid_unknown_fields=True):
    id: Annotated[str, msgspec.Meta(pattern=_UUID)]


class _Cache(msgspec.Struct, forbid_unknown_fields=True):
    cache: Annotated[list[_ImageRef], msgspec.Meta(min_length=1)]


_cache_decoder = msgspec.json.Decoder(_Cache)


@post("/os-aggregates/{aggregate_id:str}/images", status_code=202, sync_to_thread=True)
def cache_images(request: Request, backend: BackendDep, aggregate_id: FromPath[str],
                 body: RawBody) -> Response[bytes]:
    """Ask the aggregate's hosts to precache images (from 2.81; a bare 404 before)."""
    if negotiated(request.scope) < V2_81:
        raise NotFoundException()
    _authorize(request, "images")
    wanted = [ref.id for ref in _decode(_cache_decoder, body).cache]
    row = _existing(backend, aggregate_id)
    positions = image_cache.cache_images(
        backend.store, row["uuid"], aggregate_id, wanted,
        image_exists=lambda image_id: image_row(backend.read_models, image_id) is not None,
        context=service_context(request))
    if positions:
        backend.read_models.wait_for(max(positions))
    return Response(content=b"", status_code=202)


HANDLERS = [list_aggregates, create_aggregate, show_aggregate, update_aggregate,
            delete_aggregate, aggregate_action, cache_images]
