"""Server request fields of microversions 2.19–2.94 shared by create and rebuild: which
fields a version knows, and Nova's checks of key_name, user_data, trusted certificates
and hostnames."""

import base64
import binascii
import re
from typing import Any

import msgspec

from cloud.http import server_fields
from cloud.http.faults import BadRequest

Version = tuple[int, int]
# Nova's hostname of 2.90 (2 to 63 letters, digits and inner dashes) and its "fqdn" of
# 2.94, also the form of 2.74's host and hypervisor_hostname (underscores are allowed
# because real systems have them).
HOSTNAME = re.compile(r"^[a-zA-Z0-9][a-zA-Z0-9-]{0,61}[a-zA-Z0-9]$")
FQDN = re.compile(r"^[a-zA-Z0-9-._]{1,255}$")
MAX_CERTIFICATES = 50
# What Nova's rebuild answer leaves out before 2.75 (as its update answer does).
_EXTENDED_PREFIXES = ("OS-EXT-SRV-ATTR:", "OS-EXT-STS:", "OS-SRV-USG:", "OS-EXT-AZ:",
                      "os-extended-volumes:")
_HIDDEN_BEFORE_2_75 = {"config_drive", "key_name", "security_groups", "host_status"}

# Rebuild body keys -> (first version knowing it, last version knowing it).
REBUILD_FIELDS: dict[str, tuple[Version, Version]] = {
    "imageRef": ((2, 1), (9, 9)), "name": ((2, 1), (9, 9)), "adminPass": ((2, 1), (9, 9)),
    "metadata": ((2, 1), (9, 9)), "preserve_ephemeral": ((2, 1), (9, 9)),
    "accessIPv4": ((2, 1), (9, 9)), "accessIPv6": ((2, 1), (9, 9)),
    "OS-DCF:diskConfig": ((2, 1), (9, 9)),
    # Files injected at rebuild went away with 2.57 (user_data replaces them).
    "personality": ((2, 1), (2, 56)),
    "description": ((2, 19), (9, 9)), "key_name": ((2, 54), (9, 9)),
    "user_data": ((2, 57), (9, 9)), "trusted_image_certificates": ((2, 63), (9, 9)),
    "hostname": ((2, 90), (9, 9)),
}


def unexpected(field: str, where: str = "rebuild") -> BadRequest:
    return BadRequest(f"Invalid input for field/attribute {where}. Additional properties"
                      f" are not allowed ('{field}' was unexpected)")


def check_known(body: dict[str, Any], version: Version) -> None:
    """400 for a rebuild field the requested microversion does not know."""
    for field in body:
        first, last = REBUILD_FIELDS.get(field, ((9, 9), (0, 0)))
        if not first <= version <= last:
            raise unexpected(field)


def user_data(value: Any) -> str | None:
    """Base64 user data of at most 65535 characters, or null to clear it."""
    if value is None:
        return None
    if not isinstance(value, str) or len(value) > 65535:
        raise BadRequest("Invalid input for field/attribute user_data.")
    try:
        base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise BadRequest("Invalid input for field/attribute user_data: it is not valid"
                         " base64.") from None
    return value


def trusted_certificates(value: Any) -> list[str] | None:
    """Null, or 1–50 distinct non-empty certificate ids (2.63)."""
    if value is None:
        return None
    if (not isinstance(value, list) or not 1 <= len(value) <= MAX_CERTIFICATES
            or len(set(map(str, value))) != len(value)
            or not all(isinstance(item, str) and item for item in value)):
        raise BadRequest(f"Invalid input for field/attribute trusted_image_certificates."
                         f" Value: {value}. It must be null or a list of 1 to"
                         f" {MAX_CERTIFICATES} unique non-empty strings.")
    return value


def hostname(value: Any, version: Version) -> str:
    """A short hostname from 2.90, a fully qualified one too from 2.94."""
    pattern = FQDN if version >= (2, 94) else HOSTNAME
    if not isinstance(value, str) or not pattern.match(value):
        raise BadRequest(f"Invalid input for field/attribute hostname. Value: {value}."
                         f" {value!r} is not a valid hostname")
    return value


def _description(value: Any) -> str | None:
    if value is not None and (not isinstance(value, str) or len(value) > 255
                              or not value.isprintable()):
        raise BadRequest("Invalid input for field/attribute description.")
    return value


def rebuild_changes(body: dict[str, Any], version: Version,
                    key_exists: Any) -> dict[str, Any]:
    """What a rebuild body sets besides image and name, checked (``key_exists(name)``
    says whether the caller has that key pair)."""
    check_known(body, version)
    changes: dict[str, Any] = {}
    if "metadata" in body:
        changes["metadata"] = server_fields.metadata("metadata", body["metadata"])
    if "description" in body:
        changes["description"] = _description(body["description"])
    if "key_name" in body:
        key = body["key_name"]
        if key is not None and (not isinstance(key, str) or not key_exists(key)):
            raise BadRequest("Invalid key_name provided.")
        changes["key_name"] = key
    if "user_data" in body:
        changes["user_data"] = user_data(body["user_data"])
    if "trusted_image_certificates" in body:
        changes["trusted_image_certificates"] = trusted_certificates(
            body["trusted_image_certificates"])
    if "hostname" in body:
        changes["hostname"] = hostname(body["hostname"], version)
    return changes


# --- create ---------------------------------------------------------------------------

# Create body fields of later microversions -> the first version knowing each.
CREATE_FIELDS_SINCE: dict[str, Version] = {
    "trusted_image_certificates": (2, 63), "host": (2, 74),
    "hypervisor_hostname": (2, 74), "hostname": (2, 90)}


def _given(server: Any, field: str) -> bool:
    return getattr(server, field) is not msgspec.UNSET


def _check_networks(networks: Any, version: Version) -> None:
    """2.37 makes ``networks`` required: "auto", "none" or a list; before, a list."""
    if version >= (2, 37):
        if networks is None:
            raise BadRequest("Invalid input for field/attribute server. 'networks' is a"
                             " required property: give 'auto', 'none' or a list.")
    elif isinstance(networks, str):
        raise BadRequest(f"Invalid input for field/attribute networks. Value: {networks}."
                         f" '{networks}' is not of type 'array'")


def _check_device_tags(server: Any, version: Version) -> None:
    """Device tags (kept nowhere: no metadata service yet): networks take them in
    2.32–2.36, block devices in 2.32, both again from 2.42 (Nova's bug and its fix)."""
    networks = server.networks if isinstance(server.networks, list) else []
    for network in networks:
        if network.tag is not msgspec.UNSET:
            if not ((2, 32) <= version <= (2, 36) or version >= (2, 42)):
                raise unexpected("tag", "networks")
            _check_tag(network.tag)
    for mapping in server.block_device_mapping_v2 or []:
        if "tag" in mapping:
            if not (version == (2, 32) or version >= (2, 42)):
                raise unexpected("tag", "block_device_mapping_v2")
            _check_tag(mapping["tag"])


def _check_tag(tag: Any) -> None:
    if not server_fields.is_valid_tag(tag):
        raise BadRequest(f"Invalid input for field/attribute tag. Value: {tag}. It must"
                         " be a string of 1 to 60 characters without '/' or ','.")


def create_options(server: Any, version: Version) -> dict[str, Any]:
    """The later fields of a create body, checked; 400 for one too new for ``version``
    (personality too from 2.57). ``host``/``hypervisor_hostname`` are returned as given:
    the caller checks who may name them and that they exist."""
    for field, since in CREATE_FIELDS_SINCE.items():
        if _given(server, field) and version < since:
            raise unexpected(field, "server")
    if server.personality is not None and version >= (2, 57):
        raise unexpected("personality", "server")
    _check_networks(server.networks, version)
    _check_device_tags(server, version)
    options: dict[str, Any] = {}
    if _given(server, "trusted_image_certificates"):
        options["trusted_image_certificates"] = trusted_certificates(
            server.trusted_image_certificates)
    if _given(server, "hostname"):
        if int(server.max_count) > 1:
            raise BadRequest("Cannot use a hostname when creating several servers.")
        options["requested_hostname"] = hostname(server.hostname, version)
    for field in ("host", "hypervisor_hostname"):
        value = getattr(server, field)
        if value is not msgspec.UNSET and (not isinstance(value, str)
                                           or not FQDN.match(value)):
            raise BadRequest(f"Invalid input for field/attribute {field}.")
    return options


def destination(server: Any, hosts: list[dict[str, Any]]) -> str | None:
    """The host a 2.74 create names by ``host`` and/or ``hypervisor_hostname`` (the
    caller has checked the caller is an admin), or None; 400 when no host matches."""
    host = None if server.host is msgspec.UNSET else server.host
    node = (None if server.hypervisor_hostname is msgspec.UNSET
            else server.hypervisor_hostname)
    return named_host(host, node, hosts)


def forced_zone(zone: str) -> tuple[str | None, str | None, str | None]:
    """Nova's admin form of ``availability_zone``, ``ZONE:HOST``, ``ZONE:HOST:NODE`` or
    ``ZONE::NODE``: the zone (None if left empty) and the host and node asked for."""
    parts = zone.split(":")
    if len(parts) > 3:
        raise BadRequest("Unable to parse availability_zone")
    name, host, node = (*parts, None) if len(parts) == 2 else parts
    return name or None, host or None, node or None


def named_host(host: str | None, node: str | None,
               hosts: list[dict[str, Any]]) -> str | None:
    """The host that has the name ``host`` and the hypervisor ``node`` (each if given),
    or None if neither is; 400 when no host matches."""
    if host is None and node is None:
        return None
    matches = [row["name"] for row in hosts
               if host in (None, row["name"]) and node in (None, row["hypervisor_hostname"])]
    if not matches:
        named = host if node is None else f"{host or ''} (node {node})".strip()
        raise BadRequest(f"Compute host {named} could not be found.")
    return matches[0]


def rebuild_view(detail: dict[str, Any], version: Version, *,
                 user_data: str | None) -> dict[str, Any]:
    """The rebuild answer: before 2.75 without the extended attributes (as update),
    ``key_name`` from 2.54, and ``user_data`` under that name from 2.57."""
    if version < (2, 75):
        shown = {key: value for key, value in detail.items()
                 if not key.startswith(_EXTENDED_PREFIXES) and key not in _HIDDEN_BEFORE_2_75}
        if version >= (2, 54):
            shown["key_name"] = detail["key_name"]
    else:
        shown = dict(detail)
    shown.pop("OS-EXT-SRV-ATTR:user_data", None)
    if version >= (2, 57):
        shown["user_data"] = user_data
    return shown
