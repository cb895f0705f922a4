"""Request bodies as msgspec Structs (Nova's JSON as of 2.1) and their decoding."""

import base64
import binascii
import uuid
from typing import Annotated, Any, Literal, get_args

import msgspec

from cloud.http import schema_errors, server_fields
from cloud.http.faults import BadRequest
from cloud.http.flavor_schemas import printable

Name = Annotated[str, msgspec.Meta(min_length=1, max_length=255)]
# Nova's positive_integer: an integer, or a string of digits.
Count = Annotated[int, msgspec.Meta(ge=1)] | Annotated[
    str, msgspec.Meta(min_length=1, pattern=r"^[0-9]*$")]
DiskConfig = Literal["AUTO", "MANUAL"]
# The allowed values Nova names when a Literal field gets another.
_ENUMS = {"OS-DCF:diskConfig": get_args(DiskConfig)}
INVALID_NAME = ("An invalid 'name' value was provided. The name must be: printable"
                " characters. Can not start or end with whitespace.")


class NetworkRequest(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    uuid: str | None = None
    port: str | None = None
    fixed_ip: str | None = None
    # Device tag: 2.32–2.36 and from 2.42 (server_requests_late checks the version).
    tag: str | msgspec.UnsetType = msgspec.UNSET


class SecurityGroupRef(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    name: Name


class ServerCreate(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """``body["server"]`` of ``POST /servers``; fields we accept but ignore are marked."""

    name: Name
    flavor_ref: Annotated[str, msgspec.Meta(min_length=1)] | int = msgspec.field(
        name="flavorRef")
    image_ref: str = msgspec.field(name="imageRef")
    # Keys and values are checked by ``server_fields.metadata``, as Nova words it.
    metadata: dict[str, Any] = {}
    availability_zone: Name | None = None
    key_name: Name | None = None
    min_count: Count = 1
    max_count: Count = 1
    admin_pass: str | None = msgspec.field(default=None, name="adminPass")
    # Accepted for compatibility, without effect until networking, volumes and
    # config drives exist.
    networks: Literal["auto", "none"] | list[NetworkRequest] | None = None
    security_groups: list[SecurityGroupRef] | None = None
    user_data: Annotated[str, msgspec.Meta(max_length=65535)] | None = None
    block_device_mapping_v2: list[dict[str, Any]] | None = None
    config_drive: bool | str | None = None
    personality: list[dict[str, Any]] | None = None
    disk_config: DiskConfig | None = msgspec.field(
        default=None, name="OS-DCF:diskConfig")
    access_ipv4: str | None = msgspec.field(default=None, name="accessIPv4")
    access_ipv6: str | None = msgspec.field(default=None, name="accessIPv6")
    # From microversion 2.19 (refused before it: see ``check_microversion``).
    description: Annotated[str, msgspec.Meta(max_length=255)] | None | msgspec.UnsetType = (
        msgspec.UNSET)
    # From microversion 2.52 (refused before it); checked by ``server_fields.tags``.
    tags: list[Any] | msgspec.UnsetType = msgspec.UNSET
    # Multi-create: answer with the reservation id instead of the first server.
    return_reservation_id: bool | str = False
    # From 2.63, 2.74 and 2.90 (refused before; checked by server_requests_late).
    trusted_image_certificates: Any | msgspec.UnsetType = msgspec.UNSET
    host: Any | msgspec.UnsetType = msgspec.UNSET
    hypervisor_hostname: Any | msgspec.UnsetType = msgspec.UNSET
    hostname: Any | msgspec.UnsetType = msgspec.UNSET


class CreateServerBody(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    server: ServerCreate
    scheduler_hints: dict[str, Any] | None = msgspec.field(
        default=None, name="OS-SCH-HNT:scheduler_hints")
    legacy_scheduler_hints: dict[str, Any] | None = msgspec.field(
        default=None, name="os:scheduler_hints")


_create_decoder = msgspec.json.Decoder(CreateServerBody)


def _decode(decoder: msgspec.json.Decoder, body: bytes) -> Any:
    if not body.strip():
        raise BadRequest("The request body is empty; a JSON object is required.")
    try:
        return decoder.decode(body)
    except msgspec.ValidationError as error:
        raise schema_errors.translate(error, body, enums=_ENUMS) from None
    except msgspec.DecodeError as error:
        raise BadRequest(f"Malformed request body: {error}") from None


def decode_create_server(body: bytes) -> ServerCreate:
    """The server to create, or 400 with the reason the body cannot be accepted."""
    server = _decode(_create_decoder, body).server
    _check_name(server.name)
    _check_image_ref(server.image_ref)
    _check_counts(server)
    _check_attributes(server)
    _check_user_data(server.user_data)
    _check_block_devices(server.block_device_mapping_v2 or [])
    return server


def check_microversion(server: ServerCreate, version: tuple[int, int]) -> None:
    """Refuse the fields the requested microversion does not know yet."""
    if server.tags is not msgspec.UNSET and version < (2, 52):
        raise BadRequest("Invalid input for field/attribute server. Additional"
                         " properties are not allowed ('tags' was unexpected)")
    if server.description is not msgspec.UNSET:
        if version < (2, 19):
            raise BadRequest("Invalid input for field/attribute server. Additional"
                             " properties are not allowed ('description' was unexpected)")
        if server.description is not None and not server.description.isprintable():
            raise BadRequest("Invalid input for field/attribute description: only"
                             " printable characters are allowed.")


def _check_name(name: str) -> None:
    """Nova's name format: printable characters, no whitespace at either end."""
    if name != name.strip() or not all(map(printable, name)):
        raise BadRequest(INVALID_NAME)


def _check_image_ref(image_ref: str) -> None:
    if not image_ref:
        raise BadRequest("imageRef is required: booting from a volume is not supported.")
    try:
        uuid.UUID(image_ref)
    except ValueError:
        raise BadRequest(f"Invalid input for field/attribute imageRef. Value: {image_ref}."
                         f" '{image_ref}' is not a 'uuid'") from None


def _check_counts(server: ServerCreate) -> None:
    for name in ("min_count", "max_count"):
        if int(getattr(server, name)) < 1:
            value = getattr(server, name)
            raise schema_errors.invalid(name, value,
                                        f"{int(value)} is less than the minimum of 1")
    if int(server.min_count) > int(server.max_count):
        raise BadRequest("min_count must be <= max_count")
    server_fields.flag("return_reservation_id", server.return_reservation_id)


def _check_attributes(server: ServerCreate) -> None:
    """Access addresses, metadata keys and tags, in Nova's terms."""
    if server.access_ipv4 is not None:
        server_fields.access_ip("accessIPv4", server.access_ipv4, version=4)
    if server.access_ipv6 is not None:
        server_fields.access_ip("accessIPv6", server.access_ipv6, version=6)
    server_fields.metadata("metadata", server.metadata)
    if server.tags is not msgspec.UNSET:
        server_fields.tags(server.tags)
        if len(server.tags) > 50:
            raise BadRequest(f"Invalid input for field/attribute tags. Value:"
                             f" {server.tags}. Too many items (at most 50)")


def _check_user_data(user_data: str | None) -> None:
    if user_data is None:
        return
    try:
        base64.b64decode(user_data, validate=True)
    except (binascii.Error, ValueError):
        raise BadRequest("Invalid input for field/attribute user_data: it is not valid"
                         " base64.") from None


def _check_block_devices(mappings: list[dict[str, Any]]) -> None:
    """Image and blank disks on the host are fine; anything needing a volume is not."""
    for mapping in mappings:
        if mapping.get("destination_type") == "volume" or mapping.get("source_type") in (
                "volume", "snapshot"):
            raise BadRequest("Block device mappings with volumes are not supported.")


def flavor_id(flavor_ref: str | int) -> str:
    """The flavor id in a flavorRef, which may be a bare id or a link to the flavor."""
    return str(flavor_ref).rstrip("/").rsplit("/", 1)[-1]
