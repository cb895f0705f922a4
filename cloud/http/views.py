"""Pure functions rendering read-model rows as Nova's v2.1 JSON."""

import datetime as dt
import hashlib
from collections.abc import Iterable
from typing import Any
from urllib.parse import urlencode

from cloud.http.microversions import MIN_VERSION, APIVersion

Row = dict[str, Any]
JSON = dict[str, Any]

V21_UPDATED = "2013-07-23T11:33:21Z"
PROGRESS_STATUSES = frozenset({"ACTIVE", "BUILD", "REBUILD", "RESIZE", "VERIFY_RESIZE",
                               "MIGRATING"})
FAULT_STATUSES = frozenset({"ERROR", "DELETED"})
DEFAULT_AZ = "nova"


class Links:
    """The URLs resources are known by: versioned ``self`` and unversioned ``bookmark``."""

    def __init__(self, public_url: str) -> None:
        self.root = public_url.rstrip("/") + "/compute"
        self.api = self.root + "/v2.1"

    def self_href(self, collection: str, key: str) -> str:
        return f"{self.api}/{collection}/{key}"

    def bookmark_href(self, collection: str, key: str) -> str:
        return f"{self.root}/{collection}/{key}"

    def pair(self, collection: str, key: str) -> list[JSON]:
        return [{"rel": "self", "href": self.self_href(collection, key)},
                {"rel": "bookmark", "href": self.bookmark_href(collection, key)}]

    def bookmark(self, collection: str, key: str) -> list[JSON]:
        return [{"rel": "bookmark", "href": self.bookmark_href(collection, key)}]

    def next_page(self, path: str, params: Iterable[tuple[str, str]], marker: str) -> JSON:
        """A ``next`` link: the same query with the marker moved to the last item."""
        query = [(k, v) for k, v in params if k != "marker"] + [("marker", marker)]
        return {"rel": "next", "href": f"{self.api}/{path}?{urlencode(query)}"}


# --- versions -------------------------------------------------------------------------


def _v20(links: Links) -> JSON:
    return {"id": "v2.0", "status": "DEPRECATED", "version": "", "min_version": "",
            "updated": "2011-01-21T11:33:21Z",
            "links": [{"rel": "self", "href": links.root + "/v2/"}]}


def _v21(links: Links, *, min_version: str, max_version: str) -> JSON:
    return {"id": "v2.1", "status": "CURRENT", "version": max_version,
            "min_version": min_version, "updated": V21_UPDATED,
            "links": [{"rel": "self", "href": links.api + "/"}]}


def versions(links: Links, *, min_version: str, max_version: str) -> JSON:
    """The version list at the compute root, v2.0 first."""
    return {"versions": [_v20(links),
                         _v21(links, min_version=min_version, max_version=max_version)]}


def version(links: Links, *, min_version: str, max_version: str) -> JSON:
    """The document at the v2.1 root."""
    doc = _v21(links, min_version=min_version, max_version=max_version)
    doc["media-types"] = [{"base": "application/json",
                           "type": "application/vnd.openstack.compute+json;version=2.1"}]
    return {"version": doc}


# --- flavors --------------------------------------------------------------------------


def flavor_summary(links: Links, row: Row, version: APIVersion = MIN_VERSION) -> JSON:
    """A flavor as listed (``description`` from 2.55)."""
    shown = {"id": row["flavorid"], "name": row["name"],
             "links": links.pair("flavors", row["flavorid"])}
    if version >= (2, 55):
        shown["description"] = row["description"]
    return shown


def flavor_detail(links: Links, row: Row, version: APIVersion = MIN_VERSION, *,
                  extra_specs: bool = True) -> JSON:
    """A flavor, where a swap of 0 is shown as an empty string (as 0 from 2.75);
    ``description`` from 2.55, ``extra_specs`` from 2.61 (to callers who may read them)."""
    shown = {
        "id": row["flavorid"], "name": row["name"], "ram": row["ram"],
        "vcpus": row["vcpus"], "disk": row["disk"],
        "swap": row["swap"] if version >= (2, 75) else row["swap"] or "",
        "OS-FLV-EXT-DATA:ephemeral": row["ephemeral"],
        "OS-FLV-DISABLED:disabled": False,
        "os-flavor-access:is_public": row["is_public"],
        "rxtx_factor": row.get("rxtx_factor", 1.0),
        "links": links.pair("flavors", row["flavorid"]),
    }
    if version >= (2, 55):
        shown["description"] = row["description"]
    if version >= (2, 61) and extra_specs:
        shown["extra_specs"] = row.get("extra_specs") or {}
    return shown


# --- servers --------------------------------------------------------------------------


def isotime(moment: dt.datetime) -> str:
    """Nova's ``created``/``updated`` format: UTC, seconds, ``Z``."""
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def usage_time(moment: dt.datetime | None) -> str | None:
    """Nova's ``launched_at``/``terminated_at`` format: naive UTC with microseconds."""
    if moment is None:
        return None
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")


def _fault_time(text: str) -> str:
    try:
        return isotime(dt.datetime.fromisoformat(text))
    except (TypeError, ValueError):
        return text


def host_id(project_id: str, host: str | None) -> str:
    """An opaque per-project host name, so tenants can tell co-located servers apart."""
    if not host:
        return ""
    return hashlib.sha224((project_id + host).encode()).hexdigest()


def _security_groups() -> list[JSON]:
    # No network service yet: every server is shown in the default group.
    return [{"name": "default"}]


def server_summary(links: Links, row: Row) -> JSON:
    return {"id": row["id"], "name": row["name"], "links": links.pair("servers", row["id"])}


def _fault(fault: Row, *, is_admin: bool) -> JSON:
    shown = {"code": fault["code"], "message": fault["message"],
             "created": _fault_time(fault.get("created", ""))}
    # Nova hides the details of internal errors from non-admins.
    if fault.get("details") and (is_admin or fault["code"] != 500):
        shown["details"] = fault["details"]
    return shown


def server_flavor(links: Links, flavor: Row, version: APIVersion) -> JSON:
    """The server's own copy of its flavor from 2.47 (it outlives the flavor), before
    that a reference to the flavor."""
    if version >= (2, 47):
        return {"vcpus": flavor["vcpus"], "ram": flavor["ram"], "disk": flavor["disk"],
                "ephemeral": flavor.get("ephemeral", 0), "swap": flavor.get("swap", 0),
                "original_name": flavor["name"], "extra_specs": flavor.get("extra_specs", {})}
    flavor_id = flavor["flavorid"]
    return {"id": flavor_id, "links": links.bookmark("flavors", flavor_id)}


def _references(links: Links, row: Row, version: APIVersion) -> JSON:
    image = {"id": row["image_ref"], "links": links.bookmark("images", row["image_ref"])}
    # 2.98: the handler adds the image's properties (server_views_late.with_image).
    if version >= (2, 98) and "image_properties" in row:
        image["properties"] = row["image_properties"]
    return {"image": image, "flavor": server_flavor(links, row["flavor"], version)}


def _admin_attributes(row: Row, version: APIVersion) -> JSON:
    attributes = {
        "OS-EXT-SRV-ATTR:host": row["host"],
        "OS-EXT-SRV-ATTR:instance_name": "instance-" + row["id"].replace("-", "")[:8],
        "OS-EXT-SRV-ATTR:hypervisor_hostname": row["node"],
    }
    if version >= (2, 3):
        # No kernel/ramdisk images and no disks attached by device name (yet).
        attributes.update({
            "OS-EXT-SRV-ATTR:reservation_id": row["reservation_id"],
            "OS-EXT-SRV-ATTR:launch_index": row.get("launch_index") or 0,
            "OS-EXT-SRV-ATTR:hostname": row["hostname"],
            "OS-EXT-SRV-ATTR:kernel_id": "", "OS-EXT-SRV-ATTR:ramdisk_id": "",
            "OS-EXT-SRV-ATTR:root_device_name": None,
            "OS-EXT-SRV-ATTR:user_data": row["user_data"],
        })
    return attributes


def _versioned(row: Row, version: APIVersion, *, is_admin: bool) -> JSON:
    """The fields later microversions add, each from its version on."""
    fields: JSON = {}
    if version >= (2, 9):
        fields["locked"] = bool(row.get("locked"))
    if version >= (2, 16) and is_admin:
        fields["host_status"] = row["host_status"] or ""
    if version >= (2, 19):
        fields["description"] = row["description"]
    if version >= (2, 26):
        fields["tags"] = list(row.get("tags") or [])
    if version >= (2, 63):
        fields["trusted_image_certificates"] = row.get("trusted_image_certificates")
    if version >= (2, 73):
        fields["locked_reason"] = row.get("locked_reason")
    if version >= (2, 90):
        # Everyone sees the hostname from 2.90 (admins from 2.3).
        fields["OS-EXT-SRV-ATTR:hostname"] = row["hostname"]
    if version >= (2, 96):
        # The zone the user asked for at create; null when the scheduler chose freely.
        fields["pinned_availability_zone"] = row.get("availability_zone")
    # Nova shows the groups on show, update and rebuild only: those handlers add them.
    if version >= (2, 71) and "server_groups" in row:
        fields["server_groups"] = row["server_groups"]
    if version >= (2, 100):
        fields["scheduler_hints"] = row.get("scheduler_hints") or {}
    return fields


def server_detail(links: Links, row: Row, *, status: str, is_admin: bool,
                  version: APIVersion = MIN_VERSION) -> JSON:
    """A server as of ``version`` (``status`` is the API status derived from its states)."""
    server = {
        "id": row["id"], "name": row["name"], "status": status,
        "tenant_id": row["project_id"], "user_id": row["user_id"],
        "metadata": row["metadata"], "hostId": host_id(row["project_id"], row["host"]),
        **_references(links, row, version),
        "created": isotime(row["created_at"]), "updated": isotime(row["updated_at"]),
        "addresses": {}, "accessIPv4": row.get("access_ipv4") or "",
        "accessIPv6": row.get("access_ipv6") or "",
        "links": links.pair("servers", row["id"]),
        "OS-DCF:diskConfig": "MANUAL",
        "OS-EXT-AZ:availability_zone": row["availability_zone"] or DEFAULT_AZ,
        "config_drive": "", "key_name": row["key_name"],
        "OS-SRV-USG:launched_at": usage_time(row["launched_at"]),
        "OS-SRV-USG:terminated_at": usage_time(row["terminated_at"]),
        "security_groups": _security_groups(),
        "OS-EXT-STS:task_state": row["task_state"], "OS-EXT-STS:vm_state": row["vm_state"],
        "OS-EXT-STS:power_state": row["power_state"],
        "os-extended-volumes:volumes_attached": [],
    }
    if status in PROGRESS_STATUSES:
        server["progress"] = 0
    if status in FAULT_STATUSES and row["fault"]:
        server["fault"] = _fault(row["fault"], is_admin=is_admin)
    if is_admin:
        server.update(_admin_attributes(row, version))
    server.update(_versioned(row, version, is_admin=is_admin))
    return server


def created_server(links: Links, server_id: str, *, admin_pass: str) -> JSON:
    """The 202 body of a server create."""
    return {"server": {"id": server_id, "links": links.pair("servers", server_id),
                       "OS-DCF:diskConfig": "MANUAL", "security_groups": _security_groups(),
                       "adminPass": admin_pass}}
