"""The compute agents' service account, as ``cloud up`` sets it up for real hypervisors.

Agents on QEMU fetch guest images from the image API, so they log in like any client:
user ``nova`` with the admin role on project ``service`` (Nova's own convention; admin
because an agent reads every project's private images). Its password is generated once
and kept in the state directory's secrets.json; agents get it through their environment.
"""

import secrets
from pathlib import Path

from cloud.adapters.credentials import Credentials
from cloud.adapters.eventstore import EventStore
from cloud.domain import identity as idm
from cloud.domain import ids
from cloud.domain.envelope import Actor, Context
from cloud.services import identity, identity_bootstrap
from cloud.util import utcnow

USER, PROJECT = "nova", "service"


def password(state: Path) -> str:
    """The service user's password, generated on first use (beside the NATS secrets)."""
    from cloud.up import _store_secrets, _stored_secrets
    stored = _stored_secrets(state)
    if not stored.get("service", {}).get(USER):
        stored["service"] = {USER: secrets.token_urlsafe(18)}
        _store_secrets(state, stored)
    return stored["service"][USER]


def ensure(database_url: str, service_password: str) -> None:
    """Project ``service``, user ``nova`` with the admin role there and this password.
    Idempotent: a second ``cloud up`` records nothing new."""
    from cloud.manage import identity_pool
    context = Context(actor=Actor(agent="bootstrap"), timestamp=utcnow())
    store = EventStore(database_url, pool_size=1)
    try:
        with identity_pool(database_url) as pool:
            credentials = Credentials(pool)
            project_id = identity_bootstrap.ensure_project(store, PROJECT, context=context)
            user_id = identity_bootstrap.ensure_user(store, credentials, USER, context=context,
                                                     default_project_id=project_id)
            identity.grant_role(store, user_id=user_id, project_id=project_id,
                                role_id=ids.role_id(idm.ADMIN), context=context)
            identity_bootstrap.ensure_password(store, credentials, user_id,
                                               service_password, context=context)
    finally:
        store.close()


def agent_env(api_url: str, service_password: str) -> dict[str, str]:
    """What a compute agent reads to log in (cloud/adapters/service_token.py)."""
    return {"CLOUD_IDENTITY_URL": f"{api_url}/identity", "CLOUD_SERVICE_USER": USER,
            "CLOUD_SERVICE_PASSWORD": service_password, "CLOUD_SERVICE_PROJECT": PROJECT}
