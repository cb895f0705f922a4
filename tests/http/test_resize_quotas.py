"""Quota usage and enforcement across a resize, over HTTP against a real PostgreSQL: the
API asks, the scheduler's and the conductor's services (what their processes run) place
the server and record the host's reports, the projector folds in the background.

A resizing server counts the larger of its old and new flavor for each resource until
the resize is confirmed (then the new) or reverted (then the old); an upsize whose
increase does not fit is refused with Nova's 403, also when resizes race."""

import contextlib
import subprocess
import sys
import threading
import uuid

import psycopg
import pytest
from litestar.testing import TestClient

from cloud.adapters.eventstore import EventStore
from cloud.audit_compare import compare_read_models
from cloud.domain import states
from cloud.domain.envelope import Actor, Context
from cloud.domain.events import InstanceResized, InstanceResizeReverted
from cloud.http.app import create_app
from cloud.http.context import NoAuth
from cloud.projections import projector
from cloud.projections.queries import ReadModels
from cloud.services import catalog, conductor, hosts, instances, quotas, scheduling
from cloud.services import server_actions
from cloud.services.repository import load_host
from cloud.util import utcnow
from tests.agents.test_boot_flow import wait_until

API = "/compute/v2.1"
HOST = "resize-host"
ADMIN = {"X-Auth-User": "admin", "X-Auth-Project-Id": "admin", "X-Roles": "admin"}
# m1.tiny (1): 1 core, 512 MiB; m1.medium (3): 2, 4096; m1.large (4): 4, 8192.
TINY, MEDIUM, LARGE = "1", "3", "4"


class Cloud:
    def __init__(self, url: str) -> None:
        self.url = url
        self.store, self.read_models = EventStore(url, pool_size=8), ReadModels(url, size=8)

    def app(self):
        return create_app(store=self.store, read_models=self.read_models,
                          authenticator=NoAuth())

    def settle(self) -> None:
        """Wait until the read models hold everything logged so far."""
        assert self.read_models.wait_for(self.store.head())


def agent(name: str) -> Context:
    return Context(request_id=f"req-{uuid.uuid4().hex[:8]}", actor=Actor(agent=name),
                   timestamp=utcnow())


@pytest.fixture(scope="module")
def cloud(databases):
    cloud = Cloud(databases.make())
    with projector.in_background(cloud.url):
        hosts.register(cloud.store, HOST, context=agent(f"compute:{HOST}"),
                       hypervisor_type="QEMU", hypervisor_hostname=HOST, vcpus=64,
                       memory_mb=262144, disk_gb=4000)
        with psycopg.connect(cloud.url, autocommit=True) as conn:
            conductor.record_heartbeat(conn, HOST, "nova-compute", utcnow())
        cloud.settle()
        yield cloud
    cloud.read_models.close()
    cloud.store.close()


@pytest.fixture(scope="module")
def client(cloud):
    with TestClient(cloud.app()) as client:
        yield client


def member(project):
    return {"X-Auth-User": "someone", "X-Auth-Project-Id": project,
            "X-Roles": "member,reader"}


def project(client, **limits):
    p = f"p-{uuid.uuid4().hex[:8]}"
    if limits:
        response = client.put(f"{API}/os-quota-sets/{p}", json={"quota_set": limits},
                              headers=ADMIN)
        assert response.status_code == 200, response.text
    return p


def active(cloud, client, p, flavor=TINY):
    """A server booted through the API, placed by the scheduler's service and reported
    running as the conductor records it: ACTIVE on ``HOST``."""
    body = {"server": {"name": "vm", "imageRef": catalog.DEFAULT_IMAGE_ID,
                       "flavorRef": flavor}}
    response = client.post(f"{API}/servers", json=body, headers=member(p))
    assert response.status_code == 202, response.text
    server_id = response.json()["server"]["id"]
    assert scheduling.schedule(cloud.store, cloud.read_models, server_id,
                               context=agent("scheduler")) == HOST
    instances.spawned(cloud.store, server_id, host_name=HOST, power_state=states.RUNNING,
                      context=agent("conductor"))
    cloud.settle()
    return server_id


def act(client, p, server_id, body):
    return client.post(f"{API}/servers/{server_id}/action", json=body, headers=member(p))


def used(client, p):
    """(instances, cores, ram) in use, as ``openstack limits show --absolute`` shows."""
    absolute = client.get(f"{API}/limits", headers=member(p)).json()["limits"]["absolute"]
    return (absolute["totalInstancesUsed"], absolute["totalCoresUsed"],
            absolute["totalRAMUsed"])


def status(client, p, server_id):
    body = client.get(f"{API}/servers/{server_id}", headers=member(p)).json()["server"]
    return body["status"], body["flavor"]["id"]


def host_reports(cloud, server_id, done):
    """The compute agent's report of a finished resize or revert, as the conductor
    records it."""
    server_actions.done(cloud.store, server_id, done(host=HOST, power_state=states.RUNNING),
                        context=agent("conductor"))
    cloud.settle()


def resize_claims(cloud, server_id):
    return [key for key in load_host(cloud.store, HOST)[0].claims
            if key.startswith(server_id) and key != server_id]


def test_a_resize_counts_both_flavors_until_confirmed_then_the_new_one(cloud, client):
    p = project(client)
    server_id = active(cloud, client, p, TINY)
    assert used(client, p) == (1, 1, 512)
    assert act(client, p, server_id, {"resize": {"flavorRef": MEDIUM}}).status_code == 202
    assert used(client, p) == (1, 2, 4096)  # from the request on, the larger of both
    host_reports(cloud, server_id, InstanceResized)
    assert status(client, p, server_id) == ("VERIFY_RESIZE", MEDIUM)
    assert used(client, p) == (1, 2, 4096)
    assert act(client, p, server_id, {"confirmResize": None}).status_code == 204
    assert status(client, p, server_id) == ("ACTIVE", MEDIUM)
    assert used(client, p) == (1, 2, 4096)
    detail = client.get(f"{API}/os-quota-sets/{p}/detail", headers=member(p)).json()
    assert detail["quota_set"]["cores"]["in_use"] == 2
    assert detail["quota_set"]["ram"]["in_use"] == 4096


def test_a_revert_counts_both_until_the_host_is_done_then_the_old_one(cloud, client):
    p = project(client)
    server_id = active(cloud, client, p, TINY)
    act(client, p, server_id, {"resize": {"flavorRef": MEDIUM}})
    host_reports(cloud, server_id, InstanceResized)
    assert act(client, p, server_id, {"revertResize": None}).status_code == 202
    assert used(client, p) == (1, 2, 4096)
    host_reports(cloud, server_id, InstanceResizeReverted)
    assert status(client, p, server_id) == ("ACTIVE", TINY)
    assert used(client, p) == (1, 1, 512)
    host_reports(cloud, server_id, InstanceResizeReverted)  # redelivered: nothing changes
    assert used(client, p) == (1, 1, 512)


def test_a_resize_the_host_fails_counts_the_old_flavor_again(cloud, client):
    p = project(client)
    server_id = active(cloud, client, p, TINY)
    act(client, p, server_id, {"resize": {"flavorRef": MEDIUM}})
    assert used(client, p) == (1, 2, 4096)
    for _ in range(2):  # the report redelivered changes nothing
        server_actions.failed(cloud.store, server_id, host_name=HOST,
                              task_state=states.RESIZE_PREP, message="no room",
                              context=agent("conductor"))
        cloud.settle()
        assert used(client, p) == (1, 1, 512)
    assert status(client, p, server_id) == ("ERROR", TINY)


def test_an_upsize_past_the_quota_is_403_with_novas_message(cloud, client):
    p = project(client, cores=6, ram=8000)
    active(cloud, client, p, MEDIUM)
    server_id = active(cloud, client, p, TINY)
    active(cloud, client, p, TINY)
    assert used(client, p) == (3, 4, 5120)
    refused = act(client, p, server_id, {"resize": {"flavorRef": LARGE}})
    assert refused.status_code == 403, refused.text
    # Only the increase (4 - 1 cores, 8192 - 512 MiB) has to fit.
    assert refused.json() == {"forbidden": {"code": 403, "message": (
        "Quota exceeded for cores, ram: Requested 3, 7680, but already used 4, 5120 of"
        " 6, 8000 cores, ram")}}
    refused = act(client, p, server_id, {"resize": {"flavorRef": MEDIUM}})
    assert refused.json() == {"forbidden": {"code": 403, "message": (
        "Quota exceeded for ram: Requested 3584, but already used 5120 of 8000 ram")}}
    # Nothing was recorded or claimed for the refused requests.
    assert status(client, p, server_id) == ("ACTIVE", TINY)
    assert "InstanceResizeRequested" not in [
        e.event for e in cloud.store.load(uuid.UUID(server_id))]
    assert resize_claims(cloud, server_id) == []
    assert used(client, p) == (3, 4, 5120)
    client.put(f"{API}/os-quota-sets/{p}", json={"quota_set": {"ram": 8704}}, headers=ADMIN)
    assert act(client, p, server_id, {"resize": {"flavorRef": MEDIUM}}).status_code == 202
    assert used(client, p) == (3, 5, 8704)


def test_racing_upsizes_never_pass_the_quota(cloud, client):
    p = project(client, cores=8)
    servers = [active(cloud, client, p, TINY) for _ in range(6)]
    start, statuses = threading.Barrier(len(servers)), []

    def resize(own: TestClient, server_id: str) -> None:
        start.wait()
        statuses.append(act(own, p, server_id, {"resize": {"flavorRef": MEDIUM}}).status_code)

    with contextlib.ExitStack() as clients:  # one client (and app) per thread
        threads = [threading.Thread(target=resize, args=(
            clients.enter_context(TestClient(cloud.app())), server_id))
            for server_id in servers]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
    assert sorted(statuses) == [202] * 2 + [403] * 4  # each needs one more of 2 free cores
    usage, _ = quotas.load_usage(cloud.store, p)
    assert usage.in_use() == {"instances": 6, "cores": 8, "ram": 4 * 512 + 2 * 4096}
    assert used(client, p) == (6, 8, 4 * 512 + 2 * 4096)
    # Only the two that passed hold a resize claim on the host.
    wait_until(lambda: sum(bool(resize_claims(cloud, s)) for s in servers) == 2)


RACER = """
import sys, threading
from cloud.adapters.eventstore import EventStore
from cloud.domain.envelope import Actor, Context
from cloud.domain.errors import QuotaExceeded
from cloud.domain.flavor import DEFAULT_FLAVORS
from cloud.services import server_actions
from cloud.util import utcnow

url, project_id, *server_ids = sys.argv[1:]
store = EventStore(url, pool_size=4)
context = Context(actor=Actor(user_id="u", project_id=project_id), timestamp=utcnow())
medium = next(flavor for flavor in DEFAULT_FLAVORS if flavor.name == "m1.medium")
won = []

def resize(server_id):
    try:
        server_actions.resize(store, server_id, flavor=medium, context=context,
                              is_admin=False)
        won.append(1)
    except QuotaExceeded:
        pass

threads = [threading.Thread(target=resize, args=(s,)) for s in server_ids]
print("ready", flush=True)
sys.stdin.readline()
for thread in threads:
    thread.start()
for thread in threads:
    thread.join()
print(len(won), flush=True)
"""


def test_upsizes_racing_in_several_processes_never_pass_the_quota(cloud, client):
    """Across processes only optimistic concurrency on the usage stream keeps count."""
    p = project(client, cores=9)
    servers = [active(cloud, client, p, TINY) for _ in range(6)]
    racers = [subprocess.Popen([sys.executable, "-c", RACER, cloud.url, p, *servers[n::3]],
                               text=True, stdin=subprocess.PIPE, stdout=subprocess.PIPE)
              for n in range(3)]
    for racer in racers:
        assert racer.stdout.readline().strip() == "ready"
    for racer in racers:
        racer.stdin.write("go\n")
        racer.stdin.flush()
    won = [int(racer.communicate(timeout=60)[0].strip()) for racer in racers]
    assert sum(won) == 3  # each needs one more of 3 free cores
    usage, _ = quotas.load_usage(cloud.store, p)
    assert usage.in_use() == {"instances": 6, "cores": 9, "ram": 3 * 512 + 3 * 4096}
    cloud.settle()
    assert used(client, p) == (6, 9, 3 * 512 + 3 * 4096)
    assert sum(bool(resize_claims(cloud, s)) for s in servers) == 3


def test_the_usage_replayed_from_the_log_is_the_usage_shown(cloud, client):
    p = project(client)
    confirmed, reverted = (active(cloud, client, p, TINY) for _ in range(2))
    for server_id in (confirmed, reverted):
        act(client, p, server_id, {"resize": {"flavorRef": LARGE}})
        host_reports(cloud, server_id, InstanceResized)
    act(client, p, confirmed, {"confirmResize": None})
    act(client, p, reverted, {"revertResize": None})
    host_reports(cloud, reverted, InstanceResizeReverted)
    assert used(client, p) == (2, 5, 8192 + 512)
    usage, _ = quotas.load_usage(cloud.store, p)
    assert usage.in_use() == {"instances": 2, "cores": 5, "ram": 8192 + 512}
    cloud.settle()
    assert compare_read_models(cloud.url, cloud.store)[1] == []
