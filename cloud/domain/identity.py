"""Identity aggregates: projects, users (with their role grants), roles, and the name
index that keeps user and project names unique within a domain.

A name is reserved by saving ``NameClaimed`` on a stream whose id is derived from the
name (``ids.name_stream``). Two concurrent creates of one name both try to write the
same version of that stream, so the log accepts exactly one of them.
"""

import msgspec

from cloud.domain import events as ev
from cloud.domain.errors import Conflict, Invalid, NotFound

DEFAULT_DOMAIN_ID = "default"
DEFAULT_DOMAIN_NAME = "Default"
ADMIN, MEMBER, READER = "admin", "member", "reader"
BOOTSTRAP_ROLES = (ADMIN, MEMBER, READER)
# Keystone's bootstrap makes admin imply member and member imply reader.
IMPLIES = {ADMIN: frozenset({MEMBER}), MEMBER: frozenset({READER})}
MAX_NAME = 255


class Project(msgspec.Struct, frozen=True, kw_only=True):
    id: str
    name: str
    domain_id: str
    description: str = ""
    enabled: bool = True
    deleted: bool = False


class User(msgspec.Struct, frozen=True, kw_only=True):
    id: str
    name: str
    domain_id: str
    default_project_id: str | None = None
    email: str | None = None
    description: str | None = None
    enabled: bool = True
    deleted: bool = False
    grants: frozenset[tuple[str, str]] = frozenset()  # (project_id, role_id)


class Role(msgspec.Struct, frozen=True, kw_only=True):
    id: str
    name: str


class NameIndex(msgspec.Struct, frozen=True, kw_only=True):
    owner_id: str | None = None


def effective_roles(names: frozenset[str] | set[str]) -> frozenset[str]:
    """The roles held directly plus every role they imply."""
    found, todo = set(), list(names)
    while todo:
        name = todo.pop()
        if name not in found:
            found.add(name)
            todo.extend(IMPLIES.get(name, ()))
    return frozenset(found)


def _check_name(name: str) -> None:
    if not name or not name.strip() or len(name) > MAX_NAME:
        raise Invalid(f"Invalid name {name!r}: 1 to {MAX_NAME} characters, not blank.")


def _alive(thing: Project | User | None, kind: str, key: str) -> Project | User:
    if thing is None or thing.deleted:
        raise NotFound(kind, key)
    return thing


# --- the name index --------------------------------------------------------------------


def claim_name(index: NameIndex, *, kind: str, domain_id: str, name: str,
               owner_id: str) -> list[ev.Event]:
    """Reserve a name for an owner; refused while someone else holds it."""
    if index.owner_id == owner_id:
        return []
    if index.owner_id is not None:
        raise Conflict(f"Conflict occurred attempting to store {kind} - Duplicate entry"
                       f" found with name {name} at domain ID {domain_id}.")
    _check_name(name)
    return [ev.NameClaimed(kind=kind, domain_id=domain_id, name=name, owner_id=owner_id)]


def release_name(index: NameIndex, *, owner_id: str) -> list[ev.Event]:
    """Give a name back (nothing to do unless this owner holds it)."""
    return [ev.NameReleased(owner_id=owner_id)] if index.owner_id == owner_id else []


def evolve_index(index: NameIndex | None, event: ev.Event) -> NameIndex:
    """Apply one recorded event."""
    match event:
        case ev.NameClaimed():
            return NameIndex(owner_id=event.owner_id)
        case ev.NameReleased():
            return NameIndex()
    return index or NameIndex()


# --- projects --------------------------------------------------------------------------


def create_project(existing: Project | None, project_id: str, *, name: str, domain_id: str,
                   description: str = "", enabled: bool = True) -> list[ev.Event]:
    """A new project (its name is claimed separately, in the same save)."""
    if existing is not None:
        raise Conflict(f"Project {project_id} already exists.")
    _check_name(name)
    return [ev.ProjectCreated(project_id=project_id, name=name, domain_id=domain_id,
                              description=description, enabled=enabled)]


def update_project(project: Project | None, project_id: str, *, name: str | None = None,
                   description: str | None = None,
                   enabled: bool | None = None) -> list[ev.Event]:
    """Rename, describe, enable or disable; only what changes is recorded."""
    current: Project = _alive(project, "Project", project_id)  # type: ignore[assignment]
    events: list[ev.Event] = []
    new_name = current.name if name is None else name
    new_description = current.description if description is None else description
    if (new_name, new_description) != (current.name, current.description):
        _check_name(new_name)
        events.append(ev.ProjectUpdated(name=new_name, description=new_description))
    if enabled is not None and enabled != current.enabled:
        events.append(ev.ProjectEnabled() if enabled else ev.ProjectDisabled())
    return events


def delete_project(project: Project | None, project_id: str) -> list[ev.Event]:
    """Delete a project (its name is released in the same save)."""
    _alive(project, "Project", project_id)
    return [ev.ProjectDeleted()]


def evolve_project(project: Project | None, event: ev.Event) -> Project | None:
    """Apply one recorded event."""
    match event:
        case ev.ProjectCreated():
            return Project(id=event.project_id, name=event.name, domain_id=event.domain_id,
                           description=event.description, enabled=event.enabled)
    if project is None:
        return None
    match event:
        case ev.ProjectUpdated():
            return msgspec.structs.replace(project, name=event.name,
                                           description=event.description)
        case ev.ProjectEnabled() | ev.ProjectDisabled():
            return msgspec.structs.replace(project,
                                           enabled=isinstance(event, ev.ProjectEnabled))
        case ev.ProjectDeleted():
            return msgspec.structs.replace(project, deleted=True)
    return project


# --- users and their role grants -------------------------------------------------------


def create_user(existing: User | None, user_id: str, *, name: str, domain_id: str,
                default_project_id: str | None = None, email: str | None = None,
                description: str | None = None, enabled: bool = True,
                with_password: bool = False) -> list[ev.Event]:
    """A new user; ``with_password`` records that a password was set with it."""
    if existing is not None:
        raise Conflict(f"User {user_id} already exists.")
    _check_name(name)
    created = ev.UserCreated(user_id=user_id, name=name, domain_id=domain_id,
                             default_project_id=default_project_id, email=email,
                             description=description, enabled=enabled)
    return [created, ev.UserPasswordChanged()] if with_password else [created]


def update_user(user: User | None, user_id: str, *, name: str | None = None,
                enabled: bool | None = None, **attributes: object) -> list[ev.Event]:
    """Change attributes (``default_project_id``, ``email``, ``description``; ``None``
    clears one) and the enabled flag; only what changes is recorded."""
    current: User = _alive(user, "User", user_id)  # type: ignore[assignment]
    unknown = set(attributes) - {"default_project_id", "email", "description"}
    if unknown:
        raise Invalid(f"Unknown user attributes: {', '.join(sorted(unknown))}")
    wanted = {"name": current.name if name is None else name,
              "default_project_id": current.default_project_id,
              "email": current.email, "description": current.description, **attributes}
    have = {key: getattr(current, key) for key in wanted}
    events: list[ev.Event] = []
    if wanted != have:
        _check_name(wanted["name"])  # type: ignore[arg-type]
        events.append(ev.UserUpdated(**wanted))  # type: ignore[arg-type]
    if enabled is not None and enabled != current.enabled:
        events.append(ev.UserEnabled() if enabled else ev.UserDisabled())
    return events


def change_password(user: User | None, user_id: str) -> list[ev.Event]:
    """Record that the password changed (the secret itself is kept elsewhere)."""
    _alive(user, "User", user_id)
    return [ev.UserPasswordChanged()]


def grant_role(user: User | None, user_id: str, *, project: Project | None,
               project_id: str, role: Role | None, role_id: str) -> list[ev.Event]:
    """Give a user a role on a project; granting it again records nothing."""
    current: User = _alive(user, "User", user_id)  # type: ignore[assignment]
    _alive(project, "Project", project_id)
    if role is None:
        raise NotFound("Role", role_id)
    if (project_id, role_id) in current.grants:
        return []
    return [ev.RoleGranted(project_id=project_id, role_id=role_id)]


def revoke_role(user: User | None, user_id: str, *, project_id: str,
                role_id: str) -> list[ev.Event]:
    """Take a role away; 404 when the user does not hold it there."""
    current: User = _alive(user, "User", user_id)  # type: ignore[assignment]
    if (project_id, role_id) not in current.grants:
        raise NotFound("Role assignment", f"{role_id} on {project_id} for {user_id}")
    return [ev.RoleRevoked(project_id=project_id, role_id=role_id)]


def delete_user(user: User | None, user_id: str) -> list[ev.Event]:
    """Delete a user (its name is released in the same save)."""
    _alive(user, "User", user_id)
    return [ev.UserDeleted()]


def evolve_user(user: User | None, event: ev.Event) -> User | None:
    """Apply one recorded event."""
    if isinstance(event, ev.UserCreated):
        return User(id=event.user_id, name=event.name, domain_id=event.domain_id,
                    default_project_id=event.default_project_id, email=event.email,
                    description=event.description, enabled=event.enabled)
    if user is None:
        return None
    match event:
        case ev.UserUpdated():
            return msgspec.structs.replace(
                user, name=event.name, default_project_id=event.default_project_id,
                email=event.email, description=event.description)
        case ev.UserEnabled() | ev.UserDisabled():
            return msgspec.structs.replace(user, enabled=isinstance(event, ev.UserEnabled))
        case ev.RoleGranted():
            grants = user.grants | {(event.project_id, event.role_id)}
            return msgspec.structs.replace(user, grants=grants)
        case ev.RoleRevoked():
            grants = user.grants - {(event.project_id, event.role_id)}
            return msgspec.structs.replace(user, grants=grants)
        case ev.UserDeleted():
            return msgspec.structs.replace(user, deleted=True)
    return user


# --- roles -----------------------------------------------------------------------------


def create_role(existing: Role | None, role_id: str, *, name: str) -> list[ev.Event]:
    """A role; creating the same role again records nothing."""
    if existing is not None:
        return []
    _check_name(name)
    return [ev.RoleCreated(role_id=role_id, name=name)]


def evolve_role(role: Role | None, event: ev.Event) -> Role | None:
    """Apply one recorded event."""
    if isinstance(event, ev.RoleCreated):
        return Role(id=event.role_id, name=event.name)
    return role
