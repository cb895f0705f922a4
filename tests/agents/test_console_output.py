"""``os-getConsoleOutput`` end to end: the API asks the server's compute agent over NATS
(request/reply, as the ``api`` user of nats.conf), the agent reads the guest's console
log through its LibvirtDriver (libvirt's test driver) and the text comes back."""

import pytest
from litestar.testing import TestClient

from cloud.adapters.consoles import ConsoleClient
from cloud.adapters.embedded import free_port
from cloud.adapters.eventstore import EventStore
from cloud.domain.envelope import Actor, Context
from cloud.domain.flavor import DEFAULT_FLAVORS
from cloud.http.app import create_app
from cloud.projections.queries import ReadModels
from cloud.services import instances, quotas
from cloud.services.catalog import DEFAULT_IMAGE_ID
from cloud.util import utcnow
from tests.agents.test_boot_flow import start_stack, wait_until
from tests.agents.test_server_actions import ADMIN, API, MEMBER, act, boot, wait_status
from tests.conftest import Processes, running_nats

LOG = "first line\nsecond\x07 line\r\n\tthird line\nfourth line\n"
SMALL = "42"  # 64 MB: libvirt's test node has 3 GB, and the module boots several guests
SHOWN = "first line\nsecond line\n\tthird line\nfourth line\n"  # control characters dropped


class Cloud:
    """The running stack, and how to reach its one compute host's files and process."""

    def __init__(self, store, read_models, processes, nats, instances_path):
        self.store, self.read_models, self.processes = store, read_models, processes
        self.nats, self.instances_path = nats, instances_path
        self.client: TestClient | None = None

    def start_compute(self):
        self.processes.start("compute-host1", "compute", "--host", "host1",
                             "--instances-path", str(self.instances_path),
                             env=self.nats.env("compute"))

    def write_console(self, server_id, text):
        """What the guest's serial port would have written (the test driver runs no guest)."""
        (self.instances_path / server_id / "console.log").write_text(text)


@pytest.fixture(scope="module")
def cloud(databases, tmp_path_factory):
    database_url = databases.make()
    with running_nats(tmp_path_factory.mktemp("nats")) as nats:
        processes = Processes(tmp_path_factory.mktemp("logs"))
        start_stack(processes, nats, database_url, hosts=())
        store, read_models = EventStore(database_url), ReadModels(database_url)
        cloud = Cloud(store, read_models, processes, nats,
                      tmp_path_factory.mktemp("instances"))
        cloud.start_compute()
        wait_until(lambda: read_models.hosts() and read_models.hosts()[0]["last_seen_at"])
        consoles = ConsoleClient(nats.url, user="api", password=nats.passwords["api"],
                                 timeout=5)
        with TestClient(create_app(store=store, read_models=read_models,
                                   consoles=consoles)) as client:
            cloud.client = client
            yield cloud
        consoles.close()
        processes.stop_all()
    read_models.close()
    store.close()


def console(client, server_id, body, headers=MEMBER, status=200):
    response = client.post(f"{API}/servers/{server_id}/action",
                           json={"os-getConsoleOutput": body}, headers=headers)
    assert response.status_code == status, response.text
    return response.json()


def test_the_log_comes_back_whole_or_its_last_lines(cloud):
    server_id = boot(cloud.client, "console", flavor=SMALL)
    assert console(cloud.client, server_id, {}) == {"output": ""}  # nothing written yet
    cloud.write_console(server_id, LOG)
    for body, output in [
        ({}, SHOWN), ({"length": None}, SHOWN), ({"length": -1}, SHOWN),
        ({"length": "-1"}, SHOWN), ({"length": 2}, "\tthird line\nfourth line\n"),
        ({"length": "1"}, "fourth line\n"), ({"length": 0}, ""), ({"length": 50}, SHOWN),
    ]:
        assert console(cloud.client, server_id, body) == {"output": output}, body


def test_a_stopped_server_still_shows_its_log(cloud):
    server_id = boot(cloud.client, "console-stopped", flavor=SMALL)
    cloud.write_console(server_id, LOG)
    act(cloud.client, server_id, {"os-stop": None})
    wait_status(cloud.client, server_id, "SHUTOFF")
    assert console(cloud.client, server_id, {"length": 1}) == {"output": "fourth line\n"}


@pytest.fixture(scope="module")
def active(cloud):
    """One ACTIVE server for the tests that only read."""
    return boot(cloud.client, "console-shared", flavor=SMALL)


@pytest.mark.parametrize("body", [
    None, {"length": -2}, {"length": "-2"}, {"length": "ten"}, {"length": 1.5},
    {"length": True}, {"length": [1]}, {"length": 1, "lines": 1},
])
def test_bad_input_is_400(cloud, active, body):
    fault = console(cloud.client, active, body, status=400)
    assert fault["badRequest"]["code"] == 400


def test_unknown_and_hidden_servers_are_404_and_readers_403(cloud):
    missing = "00000000-0000-0000-0000-000000000000"
    assert console(cloud.client, missing, {}, status=404) == {"itemNotFound": {
        "code": 404, "message": f"Instance {missing} could not be found."}}
    server_id = boot(cloud.client, "console-private", flavor=SMALL)
    stranger = {**MEMBER, "X-Auth-User": "eve", "X-Auth-Project-Id": "other"}
    console(cloud.client, server_id, {}, headers=stranger, status=404)
    console(cloud.client, server_id, {}, headers={**MEMBER, "X-Roles": "reader"},
            status=403)
    console(cloud.client, server_id, {}, headers=ADMIN)


def test_a_server_that_never_got_a_host_is_409_not_ready(cloud):
    context = Context(request_id="req-console", actor=Actor(user_id="alice",
                      project_id="demo"), timestamp=utcnow())
    huge = DEFAULT_FLAVORS[0].__class__(flavorid="huge", name="huge", vcpus=1,
                                        ram=10**7, disk=1)
    quotas.update_limits(cloud.store, "demo", {"ram": -1}, force=False, context=context)
    server_id, _ = instances.create(cloud.store, name="homeless", flavor=huge,
                                    image_ref=DEFAULT_IMAGE_ID, context=context)
    wait_until(lambda: (row := cloud.read_models.server(server_id))
               and row["vm_state"] == "error")
    assert console(cloud.client, server_id, {}, status=409) == {"conflictingRequest": {
        "code": 409, "message": f"Instance {server_id} is not ready"}}


def test_without_a_console_client_the_api_answers_501(cloud, active):
    with TestClient(create_app(store=cloud.store, read_models=cloud.read_models)) as bare:
        fault = console(bare, active, {}, status=501)
    assert fault["notImplemented"]["code"] == 501
    assert "no connection to the compute hosts" in fault["notImplemented"]["message"]


def test_an_unreachable_bus_is_503(cloud, active):
    nowhere = ConsoleClient(f"nats://127.0.0.1:{free_port()}", timeout=1)
    app = create_app(store=cloud.store, read_models=cloud.read_models, consoles=nowhere)
    with TestClient(app) as client:
        fault = console(client, active, {}, status=503)
    nowhere.close()
    assert "compute host host1 cannot be reached" in fault["serviceUnavailable"]["message"]


def test_a_host_whose_agent_is_down_is_503_and_a_lost_guest_404(cloud):
    """Last: it restarts the agent, whose test driver then holds no guests."""
    server_id = boot(cloud.client, "console-agentless", flavor=SMALL)
    agent = cloud.processes.running["compute-host1"]
    agent.terminate()
    agent.wait(timeout=20)
    fault = console(cloud.client, server_id, {}, status=503)
    assert fault == {"serviceUnavailable": {"code": 503, "message": (
        f"Unable to get the console output of instance {server_id}: compute host host1"
        " has no compute agent listening.")}}
    cloud.start_compute()
    wait_until(lambda: cloud.client.post(
        f"{API}/servers/{server_id}/action", json={"os-getConsoleOutput": {}},
        headers=MEMBER).status_code == 404)
