"""Who may do what on the compute API: Nova's default policy, as a table.

Nova's defaults (``nova/policies/*.py``, "new defaults" with implied roles):
admin implies member implies reader; a reader may look at its project's resources, a
member may also act on them, an admin may do everything anywhere. A resource of another
project is reported missing (404), never forbidden: the API does not confirm it exists.
"""

from cloud.domain.identity import ADMIN, MEMBER, READER, effective_roles
from cloud.http.context import Identity
from cloud.http.faults import Forbidden, ItemNotFound

ANY = "any authenticated caller"
PROJECT_READER = "admin, or reader in the target's project"
PROJECT_MEMBER = "admin, or member in the target's project"
OWNER = "admin, or the user who owns the target"
ADMIN_ONLY = "admin"

SERVERS = "os_compute_api:servers:"
RULES: dict[str, str] = {
    SERVERS + "index": PROJECT_READER,
    SERVERS + "detail": PROJECT_READER,
    SERVERS + "index:get_all_tenants": ADMIN_ONLY,
    SERVERS + "detail:get_all_tenants": ADMIN_ONLY,
    SERVERS + "show": PROJECT_READER,
    SERVERS + "create": PROJECT_MEMBER,
    # 2.74: naming the host or node of a new server.
    "compute:servers:create:requested_destination": ADMIN_ONLY,
    SERVERS + "create:forced_host": ADMIN_ONLY,  # ZONE:HOST in availability_zone
    SERVERS + "delete": PROJECT_MEMBER,
    SERVERS + "update": PROJECT_MEMBER,
    **{f"os_compute_api:server-metadata:{action}": PROJECT_READER
       for action in ("index", "show")},
    **{f"os_compute_api:server-metadata:{action}": PROJECT_MEMBER
       for action in ("create", "update", "update_all", "delete")},
    **{f"os_compute_api:os-server-tags:{action}": PROJECT_READER
       for action in ("index", "show")},
    **{f"os_compute_api:os-server-tags:{action}": PROJECT_MEMBER
       for action in ("update", "update_all", "delete", "delete_all")},
    "os_compute_api:os-extended-server-attributes": ADMIN_ONLY,
    # Server actions (POST /servers/{id}/action).
    SERVERS + "stop": PROJECT_MEMBER,
    SERVERS + "start": PROJECT_MEMBER,
    SERVERS + "reboot": PROJECT_MEMBER,
    SERVERS + "resize": PROJECT_MEMBER,
    SERVERS + "confirm_resize": PROJECT_MEMBER,
    SERVERS + "revert_resize": PROJECT_MEMBER,
    SERVERS + "rebuild": PROJECT_MEMBER,
    "os_compute_api:os-pause-server:pause": PROJECT_MEMBER,
    "os_compute_api:os-pause-server:unpause": PROJECT_MEMBER,
    "os_compute_api:os-suspend-server:suspend": PROJECT_MEMBER,
    "os_compute_api:os-suspend-server:resume": PROJECT_MEMBER,
    "os_compute_api:os-lock-server:lock": PROJECT_MEMBER,
    "os_compute_api:os-lock-server:unlock": PROJECT_MEMBER,
    "os_compute_api:os-admin-actions:reset_state": ADMIN_ONLY,
    "os_compute_api:os-deferred-delete:force": PROJECT_MEMBER,
    "os_compute_api:os-console-output": PROJECT_MEMBER,
    "os_compute_api:flavors": ANY,  # Nova checks no policy to read flavors
    "os_compute_api:os-flavor-manage:create": ADMIN_ONLY,
    "os_compute_api:os-flavor-manage:delete": ADMIN_ONLY,
    "os_compute_api:os-flavor-manage:update": ADMIN_ONLY,
    "os_compute_api:os-flavor-extra-specs:index": PROJECT_READER,
    "os_compute_api:os-flavor-extra-specs:show": PROJECT_READER,
    "os_compute_api:os-flavor-extra-specs:create": ADMIN_ONLY,
    "os_compute_api:os-flavor-extra-specs:update": ADMIN_ONLY,
    "os_compute_api:os-flavor-extra-specs:delete": ADMIN_ONLY,
    "os_compute_api:os-flavor-access": ADMIN_ONLY,
    "os_compute_api:os-flavor-access:add_tenant_access": ADMIN_ONLY,
    "os_compute_api:os-flavor-access:remove_tenant_access": ADMIN_ONLY,
    "os_compute_api:os-keypairs:index": OWNER,
    "os_compute_api:os-keypairs:show": OWNER,
    "os_compute_api:os-keypairs:create": OWNER,
    "os_compute_api:os-keypairs:delete": OWNER,
    "os_compute_api:limits": ANY,
    "os_compute_api:os-quota-sets:show": PROJECT_READER,
    "os_compute_api:os-quota-sets:update": ADMIN_ONLY,
    # Host aggregates are the operator's; everyone sees the zones, admins their hosts.
    **{f"os_compute_api:os-aggregates:{action}": ADMIN_ONLY for action in (
        "index", "create", "show", "update", "delete", "add_host", "remove_host",
        "set_metadata", "images")},
    "os_compute_api:os-availability-zone:list": ANY,
    "os_compute_api:os-availability-zone:detail": ADMIN_ONLY,
    "os_compute_api:os-server-groups:index": PROJECT_READER,
    "os_compute_api:os-server-groups:index:all_projects": ADMIN_ONLY,
    "os_compute_api:os-server-groups:show": PROJECT_READER,
    "os_compute_api:os-server-groups:create": PROJECT_MEMBER,
    "os_compute_api:os-server-groups:delete": PROJECT_MEMBER,
    # Instance actions: steps with tracebacks and hosts (events) and fault details
    # (events:details) are admin-only; from 2.51 the owner sees the steps without them.
    "os_compute_api:os-instance-actions:list": PROJECT_READER,
    "os_compute_api:os-instance-actions:show": PROJECT_READER,
    "os_compute_api:os-instance-actions:events": ADMIN_ONLY,
    "os_compute_api:os-instance-actions:events:details": ADMIN_ONLY,
    **{f"os_compute_api:os-services:{action}": ADMIN_ONLY
       for action in ("list", "update", "delete")},
    **{f"os_compute_api:os-hypervisors:{action}": ADMIN_ONLY
       for action in ("list", "list-detail", "show", "statistics", "uptime", "search",
                      "servers")},
    # os-hosts (before 2.43), deprecated in Nova for os-hypervisors and os-services.
    **{f"os_compute_api:os-hosts:{action}": ADMIN_ONLY
       for action in ("list", "show", "update", "reboot", "shutdown", "start")},
    # Usage of every project is the operator's; a project's own, its readers'.
    "os_compute_api:os-simple-tenant-usage:list": ADMIN_ONLY,
    "os_compute_api:os-simple-tenant-usage:show": PROJECT_READER,
}
# The least role each rule needs within the caller's own project.
_LEAST_ROLE = {PROJECT_READER: READER, PROJECT_MEMBER: MEMBER}


def _forbidden(action: str) -> Forbidden:
    return Forbidden(f"Policy doesn't allow {action} to be performed.")


def _owns(caller: Identity, rule: str, project_id: str | None, user_id: str | None) -> bool:
    if rule == OWNER:
        return user_id is None or user_id == caller.user_id
    return project_id is None or project_id == caller.project_id


def authorize(caller: Identity, action: str, *, project_id: str | None = None,
              user_id: str | None = None, hide: str | None = None) -> None:
    """Allow the action on a target (owned by ``project_id`` / ``user_id``; none given
    means the caller's own), or raise: 403 for a role too weak, 404 with the ``hide``
    message for a target outside the caller's reach."""
    rule = RULES[action]
    roles = effective_roles(caller.roles)
    if rule == ANY or ADMIN in roles:
        return
    if rule == ADMIN_ONLY:
        raise _forbidden(action)
    if not _owns(caller, rule, project_id, user_id):
        raise ItemNotFound(hide) if hide else _forbidden(action)
    least = _LEAST_ROLE.get(rule)
    if least is not None and least not in roles:
        raise _forbidden(action)


def is_admin(caller: Identity) -> bool:
    """Whether the caller holds the admin role (admin-only fields, all projects)."""
    return ADMIN in effective_roles(caller.roles)
