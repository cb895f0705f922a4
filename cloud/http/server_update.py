"""``PUT /servers/{id}``: rename, describe, re-address a server (200 with the server)."""

from typing import Any

import msgspec
from litestar import Request, put
from litestar.params import FromPath, RawBody

from cloud.domain.states import api_status
from cloud.http import microversions, policy, server_fields, server_groups, views
from cloud.http import server_requests_late, server_views_late
from cloud.http.context import Backend, BackendDep, identity, service_context
from cloud.http.faults import BadRequest, ItemNotFound
from cloud.services import server_edits

Row = dict[str, Any]
# Fields the update body may hold, by the microversion that allows each.
FIELDS_SINCE = {"name": (2, 1), "accessIPv4": (2, 1), "accessIPv6": (2, 1),
                "OS-DCF:diskConfig": (2, 1), "description": (2, 19), "hostname": (2, 90)}
# Before 2.75 Nova's update answer leaves out the extended attributes.
_EXTENDED_PREFIXES = ("OS-EXT-SRV-ATTR:", "OS-EXT-STS:", "OS-SRV-USG:", "OS-EXT-AZ:",
                      "os-extended-volumes:")
_HIDDEN_BEFORE_2_75 = {"config_drive", "key_name", "security_groups", "host_status"}


def visible(request: Request, backend: Backend, server_id: str, rule: str) -> Row:
    """A live server the caller may act on under ``rule``, or 404 (other projects' and
    deleted servers alike); 403 when the caller's role is too weak."""
    row = backend.read_models.server(server_id)
    missing = f"Instance {server_id} could not be found."
    if row is None:
        raise ItemNotFound(missing)
    policy.authorize(identity(request), rule, project_id=row["project_id"], hide=missing)
    return row


def wait(backend: Backend, positions: list[int]) -> None:
    """Read-your-writes: answer from read models that include what was recorded."""
    if positions:
        backend.read_models.wait_for(max(positions))


def json_object(body: bytes, key: str) -> Any:
    """``body[key]`` of a JSON object holding only ``key``; 400 otherwise."""
    try:
        document = msgspec.json.decode(body) if body.strip() else None
    except msgspec.DecodeError as error:
        raise BadRequest(f"Malformed request body: {error}") from None
    if not isinstance(document, dict) or key not in document:
        raise BadRequest(f"Invalid input for field/attribute {key}. '{key}' is a required"
                         " property")
    extra = sorted(set(document) - {key})
    if extra:
        raise BadRequest("Additional properties are not allowed"
                         f" ({', '.join(repr(name) for name in extra)} were unexpected)")
    return document[key]


def _name(value: Any) -> str:
    if not isinstance(value, str) or not 1 <= len(value) <= 255 or value != value.strip():
        raise BadRequest(f"Invalid input for field/attribute name. Value: {value}. The"
                         " name must be 1 to 255 characters without leading or trailing"
                         " whitespace")
    return value


def _description(value: Any) -> str | None:
    if value is not None and not (isinstance(value, str) and len(value) <= 255
                                  and value.isprintable()):
        raise BadRequest(f"Invalid input for field/attribute description. Value: {value}."
                         " It must be null or up to 255 printable characters")
    return value


def changes_from(body: bytes, version: microversions.APIVersion) -> dict[str, object]:
    """The attributes an update body sets, checked as Nova checks them."""
    server = json_object(body, "server")
    if not isinstance(server, dict):
        raise BadRequest(f"Invalid input for field/attribute server. Value: {server}."
                         " It is not an object")
    unexpected = [name for name in server if version < FIELDS_SINCE.get(name, (9, 9))]
    if unexpected:
        raise BadRequest("Invalid input for field/attribute server. Additional properties"
                         f" are not allowed ('{unexpected[0]}' was unexpected)")
    if server.get("OS-DCF:diskConfig", "AUTO") not in ("AUTO", "MANUAL"):
        raise BadRequest("Invalid input for field/attribute OS-DCF:diskConfig.")
    checks = {"name": ("name", _name), "description": ("description", _description),
              "hostname": ("hostname", lambda v: server_requests_late.hostname(
                  v, version)),
              "accessIPv4": ("access_ipv4", lambda v: server_fields.access_ip(
                  "accessIPv4", v, version=4)),
              "accessIPv6": ("access_ipv6", lambda v: server_fields.access_ip(
                  "accessIPv6", v, version=6))}
    return {field: check(server[name]) for name, (field, check) in checks.items()
            if name in server}


def update_view(detail: dict[str, Any], version: microversions.APIVersion) -> dict:
    """What Nova's update answers: the whole server from 2.75, a smaller one before."""
    if version >= (2, 75):
        return detail
    return {key: value for key, value in detail.items()
            if not key.startswith(_EXTENDED_PREFIXES) and key not in _HIDDEN_BEFORE_2_75}


@put("/servers/{server_id:str}", status_code=200, sync_to_thread=True)
def update_server(request: Request, backend: BackendDep, server_id: FromPath[str],
                  body: RawBody) -> dict[str, Any]:
    """Change the server's name, description, hostname or access addresses."""
    version = microversions.negotiated(request.scope)
    row = visible(request, backend, server_id, policy.SERVERS + "update")
    changes = changes_from(body, version)
    wait(backend, server_edits.update(backend.store, row["id"], changes,
                                      context=service_context(request)))
    # Nova shows the server's groups in the update answer from 2.71.
    row = server_groups.with_groups(backend, backend.read_models.server(row["id"]) or row,
                                    version)
    row = server_views_late.with_image(backend, row, version)
    detail = views.server_detail(backend.links, row,
                                 status=api_status(row["vm_state"], row["task_state"]),
                                 is_admin=identity(request).is_admin, version=version)
    return {"server": update_view(detail, version)}


HANDLERS = [update_server]
