"""From 2.75 ``GET /servers`` and ``/servers/detail`` refuse query parameters Nova does
not know (before, they were ignored). Known ones a caller may not use are still dropped
silently (server_filters)."""

from collections.abc import Iterable
from typing import Final

from cloud.http.faults import BadRequest
from cloud.http.microversions import APIVersion

V2_75: Final = APIVersion(2, 75)
# Nova's server list query schema: paging and sorting, then every filterable column.
KNOWN: Final = frozenset({
    "limit", "marker", "sort_key", "sort_dir", "all_tenants", "deleted", "soft_deleted",
    "status", "changes-since", "changes-before", "ip", "ip6", "tags", "tags-any",
    "not-tags", "not-tags-any", "locked", "user_id", "project_id", "tenant_id",
    "launch_index", "image_ref", "image", "kernel_id", "ramdisk_id", "hostname",
    "key_name", "power_state", "vm_state", "task_state", "host", "node", "flavor",
    "reservation_id", "launched_at", "terminated_at", "availability_zone", "name",
    "display_name", "description", "display_description", "locked_by", "uuid",
    "root_device_name", "config_drive", "access_ip_v4", "access_ip_v6",
    "auto_disk_config", "progress", "created_at", "block_device_mapping", "services",
    "metadata", "system_metadata", "info_cache", "security_groups", "pci_devices",
})


def check(names: Iterable[str], version: APIVersion) -> None:
    """400 for an unknown query parameter from 2.75 on."""
    if version < V2_75:
        return
    unknown = sorted(set(names) - KNOWN)
    if unknown:
        raise BadRequest("Invalid input for query parameters. Additional properties are"
                         f" not allowed ('{unknown[0]}' was unexpected)")
