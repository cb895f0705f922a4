"""Server actions through the API, carried out by a real compute agent on libvirt's test
driver (relay, scheduler, conductor and projector as real processes)."""

import uuid

import pytest
from litestar.testing import TestClient

from cloud.adapters.eventstore import EventStore
from cloud.http.app import create_app
from cloud.projections.queries import ReadModels
from cloud.services import catalog
from cloud.services.repository import load_host, load_instance
from cloud.up import node_file
from tests.agents.test_boot_flow import start_stack, wait_until
from tests.conftest import Processes, running_nats

API = "/compute/v2.1"
MEMBER = {"X-Auth-User": "alice", "X-Auth-Project-Id": "demo", "X-Roles": "member,reader"}
ADMIN = {"X-Auth-User": "admin", "X-Auth-Project-Id": "admin"}


@pytest.fixture(scope="module")
def cloud(databases, tmp_path_factory):
    """One stack for the module: every test boots its own servers in it."""
    database_url = databases.make()
    with running_nats(tmp_path_factory.mktemp("nats")) as nats:
        processes = Processes(tmp_path_factory.mktemp("logs"))
        start_stack(processes, nats, database_url, hosts=())
        # A roomy host (libvirt's default test node is small): 32 cpus, 128 GiB.
        node = node_file(tmp_path_factory.mktemp("node"), "host1")
        processes.start("compute-host1", "compute", "--host", "host1", "--libvirt-uri",
                        f"test://{node}", env=nats.env("compute"))
        store, read_models = EventStore(database_url), ReadModels(database_url)
        wait_until(lambda: read_models.hosts() and read_models.hosts()[0]["last_seen_at"])
        app = create_app(store=store, read_models=read_models)
        with TestClient(app) as client:
            # Every test boots its own servers in one project: quotas are tested elsewhere.
            unlimited = {"quota_set": {"instances": -1, "cores": -1, "ram": -1}}
            assert client.put(f"{API}/os-quota-sets/demo", json=unlimited,
                              headers=ADMIN).status_code == 200
            yield client, store
        processes.stop_all()
    read_models.close()
    store.close()


def status_of(client, server_id, headers=MEMBER):
    body = client.get(f"{API}/servers/{server_id}", headers=headers).json()["server"]
    return body["status"], body["OS-EXT-STS:task_state"], body


def wait_status(client, server_id, status, timeout=30.0):
    try:
        return wait_until(lambda: (got := status_of(client, server_id))[:2] == (status, None)
                          and got[2], timeout=timeout)
    except AssertionError:
        raise AssertionError(f"not {status}: {status_of(client, server_id)[2]}") from None


def boot(client, name, flavor="1"):
    response = client.post(f"{API}/servers", headers=MEMBER, json={"server": {
        "name": name, "imageRef": catalog.DEFAULT_IMAGE_ID, "flavorRef": flavor}})
    assert response.status_code == 202, response.text
    server_id = response.json()["server"]["id"]
    wait_status(client, server_id, "ACTIVE")
    return server_id


def act(client, server_id, body, headers=MEMBER, status=202):
    response = client.post(f"{API}/servers/{server_id}/action", json=body, headers=headers)
    assert response.status_code == status, response.text
    return response


def claims_of(store, server_id, host_name="host1"):
    """The memory each claim of the server holds on its host, by claim key."""
    host, _ = load_host(store, host_name)
    return {key: claim.memory_mb for key, claim in host.claims.items()
            if key.startswith(server_id)}


def event_names(store, server_id):
    return [e.event for e in store.load(uuid.UUID(server_id))]


def test_stop_start_reboot_pause_suspend_each_reach_their_state(cloud):
    client, store = cloud
    server_id = boot(client, "cycle")
    for body, status, power in [
        ({"os-stop": None}, "SHUTOFF", 4),
        ({"os-start": None}, "ACTIVE", 1),
        ({"reboot": {"type": "SOFT"}}, "ACTIVE", 1),
        ({"reboot": {"type": "HARD"}}, "ACTIVE", 1),
        ({"pause": None}, "PAUSED", 3),
        ({"unpause": None}, "ACTIVE", 1),
        ({"suspend": None}, "SUSPENDED", 4),
        ({"resume": None}, "ACTIVE", 1),
    ]:
        act(client, server_id, body)
        shown = wait_status(client, server_id, status)
        assert shown["OS-EXT-STS:power_state"] == power, (body, shown)
    names = event_names(store, server_id)
    assert names[3:] == [
        "InstanceStopRequested", "InstanceStopped", "InstanceStartRequested",
        "InstanceStarted", "InstanceRebootRequested", "InstanceRebooted",
        "InstanceRebootRequested", "InstanceRebooted", "InstancePauseRequested",
        "InstancePaused", "InstanceUnpauseRequested", "InstanceUnpaused",
        "InstanceSuspendRequested", "InstanceSuspended", "InstanceResumeRequested",
        "InstanceResumed"]


@pytest.mark.parametrize("body, verb", [
    ({"os-start": None}, "start"), ({"unpause": None}, "unpause"),
    ({"resume": None}, "resume"), ({"revertResize": None}, "revert_resize"),
    ({"confirmResize": None}, "confirm_resize"),
])
def test_an_action_from_the_wrong_state_is_409_with_novas_message(cloud, body, verb):
    client, _ = cloud
    server_id = boot(client, f"wrong-{verb}")
    response = act(client, server_id, body, status=409)
    assert response.json() == {"conflictingRequest": {"code": 409, "message": (
        f"Cannot '{verb}' instance {server_id} while it is in vm_state active")}}


def test_a_locked_server_refuses_its_owner_but_not_an_admin(cloud):
    client, _ = cloud
    server_id = boot(client, "locked")
    act(client, server_id, {"lock": None})
    shown = client.get(f"{API}/servers/{server_id}", headers={
        **MEMBER, "OpenStack-API-Version": "compute 2.9"}).json()["server"]
    assert shown["locked"] is True
    refused = act(client, server_id, {"os-stop": None}, status=409)
    assert refused.json()["conflictingRequest"]["message"] == (
        f"Instance {server_id} is locked")
    assert client.delete(f"{API}/servers/{server_id}", headers=MEMBER).status_code == 409
    act(client, server_id, {"os-stop": None}, headers=ADMIN)
    wait_status(client, server_id, "SHUTOFF")
    act(client, server_id, {"unlock": None})
    act(client, server_id, {"os-start": None})
    wait_status(client, server_id, "ACTIVE")


def test_what_an_admin_locked_only_an_admin_unlocks(cloud):
    client, _ = cloud
    server_id = boot(client, "admin-locked")
    act(client, server_id, {"lock": None}, headers=ADMIN)
    act(client, server_id, {"unlock": None}, status=403)
    act(client, server_id, {"unlock": None}, headers=ADMIN)


def test_resize_then_confirm_keeps_the_new_flavor_and_one_claim(cloud):
    client, store = cloud
    server_id = boot(client, "grow", flavor="1")
    act(client, server_id, {"resize": {"flavorRef": "2"}})
    shown = wait_status(client, server_id, "VERIFY_RESIZE")
    assert shown["flavor"]["id"] == "2"
    act(client, server_id, {"confirmResize": None}, status=204)
    shown = wait_status(client, server_id, "ACTIVE")
    assert shown["flavor"]["id"] == "2"
    wait_until(lambda: claims_of(store, server_id) == {server_id: 2048})


def test_resize_then_revert_goes_back_to_the_old_flavor(cloud):
    client, store = cloud
    server_id = boot(client, "shrinkback", flavor="1")
    act(client, server_id, {"resize": {"flavorRef": "2"}})
    wait_status(client, server_id, "VERIFY_RESIZE")
    act(client, server_id, {"revertResize": None})
    shown = wait_status(client, server_id, "ACTIVE")
    assert shown["flavor"]["id"] == "1"
    # The claim is given back right after the revert is recorded.
    wait_until(lambda: claims_of(store, server_id) == {server_id: 512})


def test_resize_to_the_same_flavor_is_400(cloud):
    client, _ = cloud
    server_id = boot(client, "same")
    response = act(client, server_id, {"resize": {"flavorRef": "1"}}, status=400)
    assert "must change flavor" in response.json()["badRequest"]["message"]


def test_rebuild_returns_the_server_and_ends_active(cloud):
    client, store = cloud
    server_id = boot(client, "rebuilt")
    response = act(client, server_id, {"rebuild": {
        "imageRef": catalog.DEFAULT_IMAGE_ID, "name": "rebuilt-2"}})
    body = response.json()["server"]
    assert body["id"] == server_id and body["adminPass"]
    assert body["status"] == "REBUILD"
    shown = wait_status(client, server_id, "ACTIVE")
    assert "InstanceRebuilt" in event_names(store, server_id)
    assert shown["image"]["id"] == catalog.DEFAULT_IMAGE_ID


def settled(client, server_id, timeout=30.0):
    """The server once its host has finished what it was asked (no task left)."""
    try:
        return wait_until(lambda: (got := status_of(client, server_id))[1] is None
                          and got[2], timeout=timeout)
    except AssertionError:
        raise AssertionError(f"still busy: {status_of(client, server_id)[2]}") from None


def stopped_server(client, name):
    server_id = boot(client, name)
    act(client, server_id, {"os-stop": None})
    wait_status(client, server_id, "SHUTOFF")
    return server_id


def shown_states(client, store, server_id):
    """The API's status and power_state, and the aggregate's vm_state (they must agree)."""
    shown = settled(client, server_id)
    return (shown["status"], shown["OS-EXT-STS:power_state"],
            load_instance(store, server_id)[0].vm_state)


def test_a_stopped_server_is_rebuilt_with_its_guest_off_and_stays_shutoff(cloud):
    client, store = cloud
    server_id = stopped_server(client, "rebuilt-stopped")
    act(client, server_id, {"rebuild": {"imageRef": catalog.DEFAULT_IMAGE_ID}})
    assert shown_states(client, store, server_id) == ("SHUTOFF", 4, "stopped")
    assert event_names(store, server_id)[-2:] == ["InstanceRebuildRequested",
                                                  "InstanceRebuilt"]
    act(client, server_id, {"os-start": None})  # the rebuilt guest is there, just off
    assert wait_status(client, server_id, "ACTIVE")["OS-EXT-STS:power_state"] == 1


def test_a_stopped_server_resized_stays_off_and_is_shutoff_after_confirm(cloud):
    client, store = cloud
    server_id = stopped_server(client, "resized-stopped")
    act(client, server_id, {"resize": {"flavorRef": "2"}})
    assert shown_states(client, store, server_id) == ("VERIFY_RESIZE", 4, "resized")
    act(client, server_id, {"confirmResize": None}, status=204)
    assert shown_states(client, store, server_id) == ("SHUTOFF", 4, "stopped")
    assert settled(client, server_id)["flavor"]["id"] == "2"
    wait_until(lambda: claims_of(store, server_id) == {server_id: 2048})


def test_a_stopped_server_resized_then_reverted_is_shutoff_with_its_old_flavor(cloud):
    client, store = cloud
    server_id = stopped_server(client, "reverted-stopped")
    act(client, server_id, {"resize": {"flavorRef": "2"}})
    assert shown_states(client, store, server_id) == ("VERIFY_RESIZE", 4, "resized")
    act(client, server_id, {"revertResize": None})
    assert shown_states(client, store, server_id) == ("SHUTOFF", 4, "stopped")
    assert settled(client, server_id)["flavor"]["id"] == "1"
    wait_until(lambda: claims_of(store, server_id) == {server_id: 512})


def test_reset_state_is_for_admins_and_force_delete_deletes(cloud):
    client, _ = cloud
    server_id = boot(client, "reset")
    act(client, server_id, {"os-resetState": {"state": "error"}}, status=403)
    act(client, server_id, {"os-resetState": {"state": "error"}}, headers=ADMIN)
    assert status_of(client, server_id)[0] == "ERROR"
    act(client, server_id, {"os-resetState": {"state": "bogus"}}, headers=ADMIN, status=400)
    act(client, server_id, {"os-resetState": {"state": "active"}}, headers=ADMIN)
    act(client, server_id, {"forceDelete": None})
    wait_until(lambda: client.get(f"{API}/servers/{server_id}",
                                  headers=MEMBER).status_code == 404)


def test_unknown_actions_and_bad_bodies(cloud):
    client, _ = cloud
    server_id = boot(client, "bad-bodies")
    assert act(client, server_id, {"fly": None}, status=404).json() == {
        "itemNotFound": {"code": 404, "message": "There is no such action: fly"}}
    act(client, server_id, {"reboot": {"type": "SIDEWAYS"}}, status=400)
    act(client, server_id, {"os-stop": None, "os-start": None}, status=400)
    act(client, str(uuid.uuid4()), {"os-stop": None}, status=404)
