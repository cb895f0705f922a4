"""Identity bootstrap and the operator's ``cloud manage`` commands.

These work from the log alone (names are resolved through their index streams), so they
run before any projector and right after ``db-sync``.
"""

from collections.abc import Mapping

from cloud.adapters.credentials import Credentials
from cloud.adapters.eventstore import EventStore
from cloud.domain import identity as idm
from cloud.domain import ids
from cloud.domain.envelope import Actor, Context
from cloud.domain.errors import NotFound
from cloud.services import identity

# (user, project, role): the accounts every cloud starts with.
ACCOUNTS = (("admin", "admin", idm.ADMIN), ("demo", "demo", idm.MEMBER))


def owner_of(store: EventStore, kind: str, name: str,
             domain_id: str = idm.DEFAULT_DOMAIN_ID) -> str | None:
    """The id of the project or user holding a name, if any."""
    return identity.load_index(store, kind, domain_id, name)[0].owner_id


def _required(store: EventStore, kind: str, name: str) -> str:
    owner = owner_of(store, kind, name)
    if owner is None:
        raise NotFound(kind.capitalize(), name)
    return owner


def ensure_project(store: EventStore, name: str, *, context: Context) -> str:
    """The project with this name, created if missing."""
    return owner_of(store, "project", name) or identity.create_project(
        store, name=name, context=context)[0]


def ensure_user(store: EventStore, credentials: Credentials, name: str, *,
                context: Context, default_project_id: str | None = None) -> str:
    """The user with this name, created (without a password) if missing."""
    return owner_of(store, "user", name) or identity.create_user(
        store, credentials, name=name, context=context,
        default_project_id=default_project_id)[0]


def ensure_password(store: EventStore, credentials: Credentials, user_id: str,
                    password: str, *, context: Context) -> None:
    """Set the password unless it is already this one (so re-running records nothing)."""
    if not credentials.verify(user_id, password):
        identity.set_password(store, credentials, user_id, password=password,
                              context=context)


def bootstrap(store: EventStore, credentials: Credentials, *, timestamp: str,
              passwords: Mapping[str, str] | None = None) -> None:
    """Roles admin/member/reader, projects and users admin and demo with their roles,
    and (when given, by user name) their passwords. Idempotent."""
    context = Context(actor=Actor(agent="bootstrap"), timestamp=timestamp)
    for role in idm.BOOTSTRAP_ROLES:
        identity.create_role(store, role, context=context)
    for user_name, project_name, role in ACCOUNTS:
        project_id = ensure_project(store, project_name, context=context)
        user_id = ensure_user(store, credentials, user_name, context=context,
                              default_project_id=project_id)
        identity.grant_role(store, user_id=user_id, project_id=project_id,
                            role_id=ids.role_id(role), context=context)
        if passwords and passwords.get(user_name):
            ensure_password(store, credentials, user_id, passwords[user_name],
                            context=context)


def _operator(timestamp: str) -> Context:
    return Context(actor=Actor(agent="cloud-manage"), timestamp=timestamp)


def create_project(store: EventStore, name: str, *, timestamp: str) -> str:
    """``cloud manage project create NAME``."""
    return identity.create_project(store, name=name, context=_operator(timestamp))[0]


def create_user(store: EventStore, credentials: Credentials, name: str, *, password: str,
                timestamp: str, project: str | None = None, role: str | None = None) -> str:
    """``cloud manage user create NAME --password P [--project P --role R]``."""
    project_id = _required(store, "project", project) if project else None
    user_id, _ = identity.create_user(store, credentials, name=name, password=password,
                                      default_project_id=project_id,
                                      context=_operator(timestamp))
    if project and role:
        grant(store, role, user=name, project=project, timestamp=timestamp)
    return user_id


def grant(store: EventStore, role: str, *, user: str, project: str, timestamp: str) -> None:
    """``cloud manage role grant ROLE --user U --project P``."""
    identity.grant_role(store, user_id=_required(store, "user", user),
                        project_id=_required(store, "project", project),
                        role_id=ids.role_id(role), context=_operator(timestamp))


def set_password(store: EventStore, credentials: Credentials, user: str, *, password: str,
                 timestamp: str) -> None:
    """``cloud manage user password NAME --password P``."""
    identity.set_password(store, credentials, _required(store, "user", user),
                          password=password, context=_operator(timestamp))
