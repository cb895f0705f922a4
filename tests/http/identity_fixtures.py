"""A running API with Keystone tokens, against a real PostgreSQL, shared by the identity
and policy tests."""

from collections.abc import Iterator

import pytest
from litestar.testing import TestClient

from cloud.adapters.credentials import Credentials
from cloud.adapters.eventstore import EventStore
from cloud.http.app import create_app
from cloud.http.identity_auth import KeystoneAuth
from cloud.manage import identity_pool
from cloud.projections import projector
from cloud.projections.queries import ReadModels
from cloud.services import identity_bootstrap
from cloud.util import utcnow

PUBLIC_URL = "http://cloud.test:8774"
PASSWORDS = {"admin": "admin-secret", "demo": "demo-secret"}


class Cloud:
    """The app's client, its stores, and helpers to log in."""

    def __init__(self, client: TestClient, store: EventStore, read_models: ReadModels) -> None:
        self.client, self.store, self.read_models = client, store, read_models
        self.credentials = Credentials(read_models.pool)

    def login(self, user: str, password: str, project: str | None = None) -> str:
        """A token for a user by name, scoped to a project by name."""
        response = self.client.post("/identity/v3/auth/tokens",
                                    json=password_auth(user, password, project or user))
        assert response.status_code == 201, response.text
        return response.headers["X-Subject-Token"]

    def user(self, name: str, *, project: str, role: str, password: str = "pw") -> str:
        """A user with a role on a project (both created if missing); returns a token."""
        timestamp = utcnow()
        if identity_bootstrap.owner_of(self.store, "project", project) is None:
            identity_bootstrap.create_project(self.store, project, timestamp=timestamp)
        if identity_bootstrap.owner_of(self.store, "user", name) is None:
            identity_bootstrap.create_user(self.store, self.credentials, name,
                                           password=password, timestamp=timestamp)
        identity_bootstrap.grant(self.store, role, user=name, project=project,
                                 timestamp=timestamp)
        self.read_models.wait_for(self.store.head())
        return self.login(name, password, project)


def password_auth(user: str, password: str, project: str | None, *,
                  by_id: bool = False) -> dict:
    """A Keystone v3 password auth request, by name (in Default) or by id."""
    who = {"id": user} if by_id else {"name": user, "domain": {"name": "Default"}}
    body: dict = {"auth": {"identity": {"methods": ["password"],
                                        "password": {"user": {**who, "password": password}}}}}
    if project is not None:
        scope = {"id": project} if by_id else {"name": project, "domain": {"id": "default"}}
        body["auth"]["scope"] = {"project": scope}
    return body


@pytest.fixture(scope="module")
def cloud(databases) -> Iterator[Cloud]:
    """An app with KeystoneAuth; users admin and demo have passwords ``PASSWORDS``."""
    url = databases.make()
    store = EventStore(url)
    read_models = ReadModels(url)
    with identity_pool(url) as pool:
        identity_bootstrap.bootstrap(store, Credentials(pool), timestamp=utcnow(),
                                     passwords=PASSWORDS)
    app = create_app(store=store, read_models=read_models, public_url=PUBLIC_URL,
                     authenticator=KeystoneAuth.from_read_models(read_models))
    with projector.in_background(url), TestClient(app) as client:
        read_models.wait_for(store.head())
        yield Cloud(client, store, read_models)
    read_models.close()
    store.close()
