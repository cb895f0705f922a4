"""A compute agent killed with SIGKILL and started again (libvirt's test driver, every agent
a real process): work the host was given meanwhile is done after the restart, and a
guest that no server owns is reported, not silently kept.

The agent is killed *before* the request so that the event is certainly waiting for it:
killing it between delivery and report would race with a driver that answers at once,
and leave the message to JetStream's ack_wait (60 s) before it came back.
"""

import signal
import uuid

import pytest
from litestar.testing import TestClient

from cloud.adapters.eventstore import EventStore
from cloud.http.app import create_app
from cloud.projections.queries import ReadModels
from cloud.services import catalog
from tests.agents.test_boot_flow import start_stack, wait_until

API = "/compute/v2.1"
MEMBER = {"X-Auth-User": "alice", "X-Auth-Project-Id": "demo", "X-Roles": "member,reader"}
ORPHAN = "6f1a3a4e-0000-4000-8000-0000000000aa"
# A roomy test node that already runs a guest no server owns (left over, say, from a
# database restored from an older backup).
NODE = f"""<node>
  <cpu><mhz>2400</mhz><model>x86_64</model><active>32</active><nodes>1</nodes>
    <sockets>1</sockets><cores>32</cores><threads>1</threads></cpu>
  <memory>134217728</memory>
  <domain type='test'>
    <name>orphan</name><uuid>{ORPHAN}</uuid>
    <memory>65536</memory><vcpu>1</vcpu><os><type>hvm</type></os>
  </domain>
</node>
"""


class Host:
    """host1's compute agent, which the tests kill and start again."""

    def __init__(self, processes, nats_server, node) -> None:
        self.processes, self.nats_server, self.node = processes, nats_server, node
        self.proc = None

    def start(self) -> None:
        self.proc = self.processes.start(
            "compute-host1", "compute", "--host", "host1", "--libvirt-uri",
            f"test://{self.node}", env={**self.nats_server.env("compute"),
                                        "CLOUD_POWER_SYNC_EVERY": "1"})

    def kill(self) -> None:
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=10)


@pytest.fixture
def cloud(nats_server, database_url, processes, tmp_path):
    start_stack(processes, nats_server, database_url, hosts=())
    node = tmp_path / "host1.xml"
    node.write_text(NODE)
    host = Host(processes, nats_server, node)
    host.start()
    store, read_models = EventStore(database_url), ReadModels(database_url)
    wait_until(lambda: read_models.hosts() and read_models.hosts()[0]["last_seen_at"])
    with TestClient(create_app(store=store, read_models=read_models)) as client:
        yield client, host, store
    read_models.close()
    store.close()


def shown(client, server_id):
    response = client.get(f"{API}/servers/{server_id}", headers=MEMBER)
    return response.json()["server"] if response.status_code == 200 else None


def boot(client) -> str:
    response = client.post(f"{API}/servers", headers=MEMBER, json={"server": {
        "name": "vm", "imageRef": catalog.DEFAULT_IMAGE_ID, "flavorRef": "1"}})
    assert response.status_code == 202, response.text
    return response.json()["server"]["id"]


def wait_active(client, server_id):
    return wait_until(lambda: (s := shown(client, server_id)) and s["status"] == "ACTIVE"
                      and s["OS-EXT-STS:task_state"] is None and s)


def test_a_spawn_given_while_the_agent_was_dead_is_done_after_its_restart(cloud):
    client, host, store = cloud
    host.kill()
    server_id = boot(client)
    # Scheduled to host1 (still counted alive), the event waits in the host's stream.
    wait_until(lambda: shown(client, server_id)["OS-EXT-STS:task_state"] == "spawning")
    assert shown(client, server_id)["status"] == "BUILD"
    host.start()
    assert wait_active(client, server_id)["OS-EXT-STS:power_state"] == 1
    names = [e.event for e in store.load(uuid.UUID(server_id))]
    assert names[:3] == ["InstanceRequested", "InstanceScheduled", "InstanceSpawned"]


def test_a_delete_given_while_the_agent_was_dead_finishes_after_its_restart(cloud):
    client, host, store = cloud
    server_id = boot(client)
    wait_active(client, server_id)
    host.kill()
    assert client.delete(f"{API}/servers/{server_id}", headers=MEMBER).status_code == 204
    assert shown(client, server_id)["OS-EXT-STS:task_state"] == "deleting"
    host.start()
    wait_until(lambda: shown(client, server_id) is None)
    names = [e.event for e in store.load(uuid.UUID(server_id))]
    assert names[-2:] == ["InstanceDeleteRequested", "InstanceDeleted"]


def test_a_guest_no_server_owns_is_reported_after_a_restart(cloud, processes):
    client, host, _ = cloud
    host.kill()
    host.start()
    wait_until(lambda: ORPHAN in processes.log("conductor")
               and "no server of that host owns" in processes.log("conductor"))
    # Reported, not adopted: no server appears for it.
    assert shown(client, ORPHAN) is None
