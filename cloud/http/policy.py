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
    SERVERS + "delete": PROJECT_MEMBER,
    "os_compute_api:os-extended-server-attributes": ADMIN_ONLY,
    "os_compute_api:flavors": ANY,  # Nova checks no policy to read flavors
    "os_compute_api:os-flavor-manage:create": ADMIN_ONLY,
    "os_compute_api:os-flavor-manage:delete": ADMIN_ONLY,
    "os_compute_api:os-keypairs:index": OWNER,
    "os_compute_api:os-keypairs:show": OWNER,
    "os_compute_api:os-keypairs:create": OWNER,
    "os_compute_api:os-keypairs:delete": OWNER,
    "os_compute_api:limits": ANY,
    "os_compute_api:os-quota-sets:show": PROJECT_READER,
    "os_compute_api:os-quota-sets:update": ADMIN_ONLY,
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
