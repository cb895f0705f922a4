"""Identity use cases: load, decide, save. Names are reserved on their index stream in
the same save as the project or user they name, so a lost race is a Conflict (409).

Passwords go to ``Credentials`` (argon2 hashes), only after the event saying that the
password changed was saved; they are never logged or recorded.
"""

import datetime as dt
import uuid
from collections.abc import Callable
from typing import Any

from cloud.adapters.credentials import Credentials
from cloud.adapters.eventstore import Batch, EventStore
from cloud.domain import identity as idm
from cloud.domain import ids
from cloud.domain.envelope import Context
from cloud.domain.errors import Invalid, NotFound
from cloud.domain.events import Event

Positions = list[int]


# --- loading ---------------------------------------------------------------------------


def _fold(store: EventStore, stream: uuid.UUID, evolve: Callable[[Any, Event], Any]):
    state, version = None, 0
    for envelope in store.load(stream):
        state, version = evolve(state, envelope.data), envelope.version
    return state, version


def load_project(store: EventStore, project_id: str) -> tuple[idm.Project | None, int]:
    """A project and its version (``None``, 0 if it never existed or the id is bad)."""
    stream = _stream_of(project_id)
    return _fold(store, stream, idm.evolve_project) if stream else (None, 0)


def load_user(store: EventStore, user_id: str) -> tuple[idm.User | None, int]:
    """A user and its version."""
    stream = _stream_of(user_id)
    return _fold(store, stream, idm.evolve_user) if stream else (None, 0)


def load_role(store: EventStore, role_id: str) -> idm.Role | None:
    """A role."""
    stream = _stream_of(role_id)
    return _fold(store, stream, idm.evolve_role)[0] if stream else None


def load_index(store: EventStore, kind: str, domain_id: str,
               name: str) -> tuple[idm.NameIndex, int]:
    """Who holds a name, and the index stream's version."""
    index, version = _fold(store, ids.name_stream(kind, domain_id, name), idm.evolve_index)
    return index or idm.NameIndex(), version


def _stream_of(key: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(key)
    except ValueError:
        return None


# --- saving ----------------------------------------------------------------------------


def _batch(key: str, version: int, events: list[Event]) -> Batch:
    return Batch(uuid.UUID(key), key, version, events)


def name_batch(store: EventStore, kind: str, domain_id: str, name: str, *,
                owner_id: str, release: bool = False) -> Batch:
    """The index events that claim (or release) a name for an owner."""
    stream = ids.name_stream(kind, domain_id, name)
    index, version = load_index(store, kind, domain_id, name)
    events = (idm.release_name(index, owner_id=owner_id) if release else
              idm.claim_name(index, kind=kind, domain_id=domain_id, name=name,
                             owner_id=owner_id))
    return Batch(stream, str(stream), version, events)


def _renamed(store: EventStore, kind: str, domain_id: str, *, owner_id: str, old: str,
             events: list[Event]) -> list[Batch]:
    """Index batches for a rename found among the events (none when the name stays)."""
    new = next((e.name for e in events if hasattr(e, "name") and e.name != old), None)
    if new is None:
        return []
    return [name_batch(store, kind, domain_id, old, owner_id=owner_id, release=True),
            name_batch(store, kind, domain_id, new, owner_id=owner_id)]


def check_domain(domain_id: str) -> str:
    """Only the default domain exists."""
    if domain_id != idm.DEFAULT_DOMAIN_ID:
        raise NotFound("Domain", domain_id)
    return domain_id


def _now(context: Context) -> dt.datetime:
    return dt.datetime.fromisoformat(context.timestamp)


# --- projects --------------------------------------------------------------------------


def create_project(store: EventStore, *, name: str, context: Context,
                   domain_id: str = idm.DEFAULT_DOMAIN_ID, description: str = "",
                   enabled: bool = True) -> tuple[str, Positions]:
    """A new project; 409 when the name is taken in its domain."""
    project_id = uuid.uuid4().hex
    claim = name_batch(store, "project", check_domain(domain_id), name, owner_id=project_id)
    events = idm.create_project(None, project_id, name=name, domain_id=domain_id,
                                description=description, enabled=enabled)
    return project_id, store.append(claim, _batch(project_id, 0, events), context=context)


def update_project(store: EventStore, project_id: str, *, context: Context,
                   **changes: Any) -> Positions:
    """Rename, describe, enable or disable a project."""
    project, version = load_project(store, project_id)
    events = idm.update_project(project, project_id, **changes)
    index = _renamed(store, "project", project.domain_id, owner_id=project_id,
                     old=project.name, events=events) if project else []
    return store.append(*index, _batch(project_id, version, events), context=context)


def delete_project(store: EventStore, project_id: str, *, context: Context) -> Positions:
    """Delete a project and free its name."""
    project, version = load_project(store, project_id)
    events = idm.delete_project(project, project_id)
    release = name_batch(store, "project", project.domain_id, project.name,  # type: ignore
                          owner_id=project_id, release=True)
    return store.append(release, _batch(project_id, version, events), context=context)


# --- users -----------------------------------------------------------------------------


def _check_password(password: str) -> str:
    if not password:
        raise Invalid("The password must not be empty.")
    return password


def create_user(store: EventStore, credentials: Credentials, *, name: str,
                context: Context, password: str | None = None,
                domain_id: str = idm.DEFAULT_DOMAIN_ID, **attributes: Any) -> tuple[str, Positions]:
    """A new user, with a password if one is given; 409 when the name is taken."""
    user_id = uuid.uuid4().hex
    if password is not None:
        _check_password(password)
    claim = name_batch(store, "user", check_domain(domain_id), name, owner_id=user_id)
    events = idm.create_user(None, user_id, name=name, domain_id=domain_id,
                             with_password=password is not None, **attributes)
    positions = store.append(claim, _batch(user_id, 0, events), context=context)
    if password is not None:
        credentials.set_password(user_id, password, now=_now(context))
    return user_id, positions


def update_user(store: EventStore, credentials: Credentials, user_id: str, *,
                context: Context, password: str | None = None, **changes: Any) -> Positions:
    """Change a user's attributes, enabled flag and (if given) password."""
    user, version = load_user(store, user_id)
    events = idm.update_user(user, user_id, **changes)
    if password is not None:
        _check_password(password)
        events += idm.change_password(user, user_id)
    index = _renamed(store, "user", user.domain_id, owner_id=user_id, old=user.name,
                     events=events) if user else []
    positions = store.append(*index, _batch(user_id, version, events), context=context)
    if password is not None:
        credentials.set_password(user_id, password, now=_now(context))
    return positions


def set_password(store: EventStore, credentials: Credentials, user_id: str, *,
                 password: str, context: Context) -> Positions:
    """Replace a user's password."""
    return update_user(store, credentials, user_id, context=context, password=password)


def delete_user(store: EventStore, credentials: Credentials, user_id: str, *,
                context: Context) -> Positions:
    """Delete a user, free its name and forget its password."""
    user, version = load_user(store, user_id)
    events = idm.delete_user(user, user_id)
    release = name_batch(store, "user", user.domain_id, user.name,  # type: ignore[union-attr]
                          owner_id=user_id, release=True)
    positions = store.append(release, _batch(user_id, version, events), context=context)
    credentials.forget(user_id)
    return positions


# --- roles -----------------------------------------------------------------------------


def create_role(store: EventStore, name: str, *, context: Context) -> tuple[str, Positions]:
    """A role (its id follows from its name, so creating it twice records nothing)."""
    role_id = ids.role_id(name)
    events = idm.create_role(load_role(store, role_id), role_id, name=name)
    return role_id, store.append(_batch(role_id, 0, events), context=context)


def grant_role(store: EventStore, *, user_id: str, project_id: str, role_id: str,
               context: Context) -> Positions:
    """Give a user a role on a project (again: nothing happens)."""
    user, version = load_user(store, user_id)
    events = idm.grant_role(user, user_id, project=load_project(store, project_id)[0],
                            project_id=project_id, role=load_role(store, role_id),
                            role_id=role_id)
    return store.append(_batch(user_id, version, events), context=context)


def revoke_role(store: EventStore, *, user_id: str, project_id: str, role_id: str,
                context: Context) -> Positions:
    """Take a role on a project away from a user."""
    user, version = load_user(store, user_id)
    events = idm.revoke_role(user, user_id, project_id=project_id, role_id=role_id)
    return store.append(_batch(user_id, version, events), context=context)
