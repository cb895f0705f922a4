"""Shared pieces of the server update/metadata/tags/listing tests: a real app over a
real PostgreSQL log with the projector folding in the background."""

import contextlib

from litestar.testing import TestClient

from cloud.adapters.eventstore import EventStore
from cloud.domain import states
from cloud.domain.envelope import Actor, Context
from cloud.http import microversions
from cloud.http.app import create_app
from cloud.http.context import NoAuth
from cloud.projections import projector
from cloud.projections.queries import ReadModels
from cloud.services import catalog, instances
from cloud.util import utcnow

API = "/compute/v2.1"
MAX = microversions.MAX_VERSION


class Cloud:
    def __init__(self, client: TestClient, store: EventStore, read_models: ReadModels):
        self.client, self.store, self.read_models = client, store, read_models


@contextlib.contextmanager
def running_cloud(url: str):
    store, read_models = EventStore(url), ReadModels(url)
    app = create_app(store=store, read_models=read_models, authenticator=NoAuth())
    with projector.in_background(url), TestClient(app) as client:
        cloud = Cloud(client, store, read_models)
        unlimited = {"quota_set": {"instances": -1, "cores": -1, "ram": -1}}
        for project in ("p1", "p2"):
            assert client.put(f"{API}/os-quota-sets/{project}", json=unlimited,
                              headers=headers(admin=True)).status_code == 200
        yield cloud
    read_models.close()
    store.close()


def headers(version: str = "2.1", *, admin: bool = False, project: str = "p1",
            user: str = "u1", reader: bool = False) -> dict[str, str]:
    roles = "admin,member,reader" if admin else ("reader" if reader else "member,reader")
    return {"X-Auth-User": user, "X-Auth-Project-Id": project, "X-Roles": roles,
            "OpenStack-API-Version": f"compute {version}"}


def boot(cloud: Cloud, name: str = "vm", *, version: str = "2.1", project: str = "p1",
         **fields) -> str:
    body = {"server": {"name": name, "imageRef": catalog.DEFAULT_IMAGE_ID, "flavorRef": "1",
                       **fields}}
    if tuple(map(int, version.split("."))) >= (2, 37):
        body["server"].setdefault("networks", "none")  # required from 2.37
    response = cloud.client.post(f"{API}/servers", json=body,
                                 headers=headers(version, project=project))
    assert response.status_code == 202, response.text
    return response.json()["server"]["id"]


def activate(cloud: Cloud, server_id: str, host: str = "host-1") -> None:
    """Play the scheduler and the compute agent: the server becomes ACTIVE."""
    context = Context(actor=Actor(agent="test"), timestamp=utcnow())
    instances.schedule(cloud.store, server_id, host_name=host, context=context)
    positions = instances.spawned(cloud.store, server_id, host_name=host,
                                  power_state=states.RUNNING, context=context)
    assert cloud.read_models.wait_for(max(positions))


def assert_fault(response, status: int, name: str, message: str | None = None) -> None:
    assert response.status_code == status, response.text
    body = response.json()
    assert list(body) == [name], body
    if message is not None:
        assert body[name]["message"] == message, body[name]["message"]
