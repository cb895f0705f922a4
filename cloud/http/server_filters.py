"""The query of ``GET /servers`` and ``/servers/detail``: filters and sort keys, with
Nova's rules for who may use which (non-admins' other filters are dropped silently, as
Nova strips them; unknown ones are dropped for everyone)."""

import datetime as dt
import re
from typing import Final

from litestar.datastructures import MultiDict

from cloud.domain import states as s
from cloud.http import paging, server_query_params
from cloud.http.faults import BadRequest, Forbidden
from cloud.http.microversions import APIVersion
from cloud.projections.server_queries import REGEX_COLUMNS, SORT_EXPRESSIONS, ServerFilters

# Filters everyone may use, by the microversion that brought them (Nova's list).
USER_FILTERS: Final = {
    (2, 1): {"reservation_id", "name", "status", "image", "flavor", "ip", "changes-since",
             "all_tenants"},
    (2, 5): {"ip6"},
    (2, 26): {"tags", "tags-any", "not-tags", "not-tags-any"},
    (2, 66): {"changes-before"},
    (2, 73): {"locked"},
    (2, 83): {"availability_zone", "key_name", "user_id", "vm_state", "task_state",
              "config_drive", "created_at", "launched_at", "terminated_at", "power_state",
              "progress"},
    (2, 90): {"hostname"},
}
# Filters only admins may use, from 2.1.
ADMIN_FILTERS: Final = {"host", "node", "deleted", "uuid", "user_id", "project_id",
                        "tenant_id", "key_name", "availability_zone", "description",
                        "hostname", "vm_state", "task_state", "ip6",
                        # Nova's admins filter by any column: these became everyone's
                        # with 2.83.
                        "config_drive", "created_at", "launched_at", "terminated_at",
                        "power_state", "progress"}
# Filters that do not exist before a microversion, for admins too.
INTRODUCED: Final = {"tags": (2, 26), "tags-any": (2, 26), "not-tags": (2, 26),
                     "not-tags-any": (2, 26), "changes-before": (2, 66), "locked": (2, 73)}

# API status -> (vm_states, task_states or None for any task): Nova's state map, read
# backwards.
_REBOOT_TASKS = [s.REBOOTING, "reboot_pending", "reboot_started"]
_HARD_TASKS = [s.REBOOTING_HARD, "reboot_pending_hard", "reboot_started_hard"]
_RESIZE_TASKS = [s.RESIZE_PREP, "resize_migrating", "resize_migrated", "resize_finish"]
STATUS_STATES: Final[dict[str, tuple[list[str], list[str] | None]]] = {
    **{status: ([vm], None) for status, vm in s.VM_STATES_BY_STATUS.items()},
    "SOFT_DELETED": (["soft-delete"], None), "SHELVED": (["shelved"], None),
    "SHELVED_OFFLOADED": (["shelved_offloaded"], None), "RESCUE": (["rescued"], None),
    "REBOOT": ([s.ACTIVE], _REBOOT_TASKS), "HARD_REBOOT": ([s.ACTIVE], _HARD_TASKS),
    "REBUILD": ([s.ACTIVE, s.STOPPED, s.ERROR], [s.REBUILDING]),
    "RESIZE": ([s.ACTIVE, s.STOPPED], _RESIZE_TASKS),
    "REVERT_RESIZE": ([s.RESIZED], [s.RESIZE_REVERTING]),
    "MIGRATING": ([s.ACTIVE], ["migrating"]), "PASSWORD": ([s.ACTIVE], ["updating_password"]),
}

# Sort keys Nova accepts but ignores, and those without meaning here (all servers share
# one value): both are dropped with their direction.
IGNORED_SORT_KEYS: Final = frozenset({
    "architecture", "cell_name", "cleaned", "default_ephemeral_device",
    "default_swap_device", "deleted", "deleted_at", "disable_terminate", "ephemeral_gb",
    "ephemeral_key_uuid", "id", "key_data", "launched_on", "locked", "memory_mb",
    "os_type", "reservation_id", "root_gb", "shutdown_terminate", "user_data", "vcpus",
    "vm_mode"})
CONSTANT_SORT_KEYS: Final = frozenset({"auto_disk_config", "config_drive", "kernel_id",
                                       "ramdisk_id", "root_device_name", "progress"})
ADMIN_SORT_KEYS: Final = frozenset({"host", "node"})


def usable(params: MultiDict, version: APIVersion, *, is_admin: bool) -> dict[str, list[str]]:
    """The filters this caller may use at this version, each with all its values."""
    allowed = {name for since, names in USER_FILTERS.items() if version >= since
               for name in names}
    if is_admin:
        allowed |= {name for name in ADMIN_FILTERS
                    if version >= INTRODUCED.get(name, (2, 1))}
        allowed |= {name for name, since in INTRODUCED.items() if version >= since}
    return {name: params.getall(name) for name in params if name in allowed}


def _regex(name: str, raw: str) -> str:
    try:
        re.compile(raw)
    except re.error as error:
        raise BadRequest(f"Invalid {name} filter [{raw}]: {error}") from None
    return raw


def _moment(name: str, raw: str) -> dt.datetime:
    try:
        moment = dt.datetime.fromisoformat(raw.strip().replace("Z", "+00:00"))
    except ValueError:
        raise BadRequest(f"Invalid input for query parameters {name}. Value: {raw}."
                         f" '{raw}' is not a 'date-time'") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def _status(filters: ServerFilters, statuses: list[str], version: APIVersion,
            is_admin: bool) -> bool:
    """Apply ``status``; False when no state has such a status (an empty list)."""
    known = [STATUS_STATES[each.upper()] for each in statuses if each.upper() in STATUS_STATES]
    if not known:
        if version >= (2, 38):
            raise BadRequest("Invalid status value")
        return False
    filters.vm_states = sorted({vm for vms, _ in known for vm in vms})
    if all(tasks is not None for _, tasks in known):
        filters.task_states = sorted({t for _, tasks in known for t in tasks or ()})
    if filters.vm_states == [s.DELETED]:
        if not is_admin:
            raise Forbidden("Only administrators may list deleted instances")
        filters.deleted = "only"
    return True


def _times(filters: ServerFilters, opts: dict[str, list[str]]) -> None:
    if "changes-since" in opts:
        filters.changes_since = _moment("changes-since", opts["changes-since"][-1])
    if "changes-before" in opts:
        filters.changes_before = _moment("changes-before", opts["changes-before"][-1])
    if filters.changes_since and filters.changes_before and (
            filters.changes_since > filters.changes_before):
        raise BadRequest("The value of changes-since must be less than or equal to"
                         " changes-before.")
    if "deleted" in opts:
        filters.deleted = ("only" if opts["deleted"][-1].strip().lower() in paging._TRUE
                           else "exclude")
    elif filters.deleted == "exclude" and (filters.changes_since or filters.changes_before):
        filters.deleted = "include"  # recently deleted servers are changes too


def _tags(filters: ServerFilters, opts: dict[str, list[str]]) -> None:
    for name, attribute in (("tags", "tags"), ("tags-any", "tags_any"),
                            ("not-tags", "not_tags"), ("not-tags-any", "not_tags_any")):
        if name in opts:
            setattr(filters, attribute, [t for t in opts[name][-1].split(",") if t])


def filters_for(params: MultiDict, version: APIVersion, *, is_admin: bool,
                project_id: str | None) -> ServerFilters | None:
    """The filters of a list request, or None when nothing can match (an address
    filter: no server has a fixed address yet; a status no server can have)."""
    server_query_params.check(params.keys(), version)
    opts = usable(params, version, is_admin=is_admin)
    if "ip" in opts or "ip6" in opts:
        return None
    filters = ServerFilters()
    if project_id is not None:
        filters.exact["project_id"] = project_id
    elif "project_id" in opts or "tenant_id" in opts:
        filters.exact["project_id"] = (opts.get("project_id") or opts["tenant_id"])[-1]
    for name in ("image", "flavor", "host", "uuid", "user_id"):
        if name in opts:
            filters.exact[name] = opts[name][-1].rstrip("/").rsplit("/", 1)[-1] \
                if name in ("image", "flavor") else opts[name][-1]
    for name in REGEX_COLUMNS:
        if name in opts:
            filters.regex[name] = _regex(name, opts[name][-1])
    if "vm_state" in opts:
        filters.vm_states = opts["vm_state"]
    if "task_state" in opts:
        filters.task_states = opts["task_state"]
    if "status" in opts and not _status(filters, opts["status"], version, is_admin):
        return None
    if "locked" in opts:
        filters.locked = paging.flag(opts["locked"][-1], name="locked")
    _times(filters, opts)
    _tags(filters, opts)
    return filters


def sort_for(params: MultiDict, version: APIVersion, *, is_admin: bool,
             ) -> list[tuple[str, str]]:
    """The sort keys and directions asked for, checked and paired as Nova pairs them."""
    keys = [key.strip() for key in params.getall("sort_key", [])]
    dirs = [way.strip() for way in params.getall("sort_dir", [])]
    ignored = IGNORED_SORT_KEYS - ({"locked"} if version >= (2, 73) else set())
    for key in keys:
        if key not in SORT_EXPRESSIONS and key not in CONSTANT_SORT_KEYS | ignored:
            raise BadRequest(f"Invalid input for query parameters sort_key. Value: {key}."
                             f" '{key}' is not a valid sort key")
    for way in dirs:
        if way not in ("asc", "desc"):
            raise BadRequest(f"Invalid input for query parameters sort_dir. Value: {way}."
                             f" '{way}' is not one of ['asc', 'desc']")
    for index in reversed(range(len(keys))):
        if keys[index] in ignored:
            del keys[index]
            if index < len(dirs):
                del dirs[index]
        elif keys[index] in ADMIN_SORT_KEYS and not is_admin:
            raise Forbidden(f"Only administrators can sort servers by {keys[index]}")
    return _paired(keys or ["created_at"], dirs or ["desc"])


def _paired(keys: list[str], dirs: list[str]) -> list[tuple[str, str]]:
    if len(dirs) > len(keys):
        raise BadRequest("Invalid input received: Sort direction size exceeds sort key"
                         " size")
    dirs = dirs + [dirs[0]] * (len(keys) - len(dirs))
    return [(key, way) for key, way in zip(keys, dirs) if key not in CONSTANT_SORT_KEYS]
