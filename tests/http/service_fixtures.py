"""A cloud for the os-services and os-hypervisors tests: the real app over a fresh
PostgreSQL log, the projector in a thread, hosts registered through the Host aggregate
and heartbeats recorded as the conductor records them."""

import contextlib
import datetime as dt
from collections.abc import Iterator

import psycopg
from litestar.testing import TestClient

from cloud.adapters.eventstore import EventStore
from cloud.domain.envelope import Actor, Context
from cloud.domain.host import Claim, Ratios
from cloud.http.app import create_app
from cloud.http.context import NoAuth
from cloud.projections import projector
from cloud.projections.queries import ReadModels
from cloud.services import catalog, conductor, hosts, instances
from cloud.util import utcnow

API = "/compute/v2.1"


class Cloud:
    def __init__(self, client: TestClient, store: EventStore, url: str,
                 read_models: ReadModels) -> None:
        self.client, self.store, self.url, self.read_models = client, store, url, read_models

    def context(self) -> Context:
        return Context(request_id="req-test", actor=Actor(agent="test"), timestamp=utcnow())

    def beat(self, host: str, binary: str, *, ago: float = 0) -> None:
        """A heartbeat of ``binary`` on ``host``, ``ago`` seconds in the past."""
        at = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=ago)
        with psycopg.connect(self.url, autocommit=True) as conn:
            conductor.record_heartbeat(conn, host, binary, at.isoformat())

    def register(self, host: str, *, vcpus: int = 8, memory_mb: int = 16384,
                 disk_gb: int = 200) -> None:
        """A compute host as its agent registers it, beating."""
        hosts.register(self.store, host, context=self.context(), hypervisor_type="QEMU",
                       hypervisor_hostname=f"{host}.example.org", vcpus=vcpus,
                       memory_mb=memory_mb, disk_gb=disk_gb)
        self.beat(host, "nova-compute")

    def place(self, host: str, name: str = "vm") -> str:
        """A server booted through the API and placed on ``host`` with its claim."""
        body = {"server": {"name": name, "imageRef": catalog.DEFAULT_IMAGE_ID,
                           "flavorRef": "1"}}
        response = self.client.post(f"{API}/servers", json=body)
        assert response.status_code == 202, response.text
        server_id = response.json()["server"]["id"]
        hosts.claim(self.store, host, instance_id=server_id, ratios=Ratios(),
                    resources=Claim(vcpus=1, memory_mb=512, disk_gb=1),
                    context=self.context())
        positions = instances.schedule(self.store, server_id, host_name=host,
                                       context=self.context())
        self.read_models.wait_for(max(positions))
        return server_id

    def settle(self) -> None:
        """Wait until the read models hold everything logged so far."""
        assert self.read_models.wait_for(self.store.head())


@contextlib.contextmanager
def make_cloud(url: str) -> Iterator[Cloud]:
    """The app and the projector running over the database at ``url``."""
    store, read_models = EventStore(url), ReadModels(url)
    app = create_app(store=store, read_models=read_models, authenticator=NoAuth())
    with projector.in_background(url), TestClient(app) as client:
        # Many servers in one project: quotas are tested elsewhere.
        unlimited = {"quota_set": {"instances": -1, "cores": -1, "ram": -1}}
        assert client.put(f"{API}/os-quota-sets/admin", json=unlimited).status_code == 200
        yield Cloud(client, store, url, read_models)
    read_models.close()
    store.close()


def headers(version: str = "2.1", *, admin: bool = True) -> dict[str, str]:
    roles = "admin,member,reader" if admin else "member,reader"
    return {"X-Auth-User": "admin" if admin else "user", "X-Auth-Project-Id": "admin",
            "X-Roles": roles, "OpenStack-API-Version": f"compute {version}"}


def assert_fault(response, status: int, name: str, message: str | None = None) -> None:
    assert response.status_code == status, response.text
    body = response.json()
    assert list(body) == [name]
    assert body[name]["code"] == status
    if message is not None:
        assert body[name]["message"] == message
