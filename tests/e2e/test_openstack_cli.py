"""The real ``openstack`` CLI against `cloud up`, logging in through the generated
clouds.yaml: a demo user boots, lists, shows and deletes a server; the admin manages
projects, users and roles."""

import json
import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from cloud.adapters.embedded import free_port
from tests.e2e.test_cloud_up import Up, clouds_yaml, wait_for_compute_hosts

pytestmark = pytest.mark.e2e
OPENSTACK = Path(sys.executable).parent / "openstack"


@pytest.fixture(scope="module")
def info(tmp_path_factory):
    """A running cloud's endpoints.json."""
    state = tmp_path_factory.mktemp("cli") / ".cloud"
    up = Up(state, free_port())
    try:
        info = up.wait_ready()
        wait_for_compute_hosts(None, info)
        yield info
    finally:
        assert up.interrupt() == 0


def openstack(info: dict, cloud: str, *args: str) -> str:
    """Run ``openstack ARGS`` as a user would with ``OS_CLOUD``; its stdout."""
    env = {**os.environ, "OS_CLOUD": cloud, "OS_CLIENT_CONFIG_FILE": str(clouds_yaml(info))}
    result = subprocess.run([str(OPENSTACK), *args], env=env, capture_output=True,
                            text=True, timeout=180)
    assert result.returncode == 0, f"openstack {' '.join(args)}:\n{result.stderr}"
    return result.stdout


def as_json(info: dict, cloud: str, *args: str):
    return json.loads(openstack(info, cloud, *args, "-f", "json"))


def _no_network(info: dict) -> list[str]:
    # From 2.37 a server needs networks ("none" here); before, OSC refuses `--nic none`
    # and sends none at all. (`--network none` would look up a Neutron network "none".)
    version = httpx.get(info["compute_url"]).json()["version"]["version"]
    return ["--nic", "none"] if tuple(map(int, version.split("."))) >= (2, 37) else []


def test_demo_boots_lists_shows_and_deletes_a_server(info):
    assert "m1.tiny" in {f["Name"] for f in as_json(info, "demo", "flavor", "list")}
    # Without --public-key the cloud makes the key pair and prints the private key.
    assert "PRIVATE KEY" in openstack(info, "demo", "keypair", "create", "k1")
    created = as_json(info, "demo", "server", "create", "--flavor", "m1.tiny",
                      "--image", info["default_image_id"], *_no_network(info),
                      "--key-name", "k1", "--wait", "vm1")
    assert created["status"] == "ACTIVE"
    listed = as_json(info, "demo", "server", "list")
    assert [(s["Name"], s["Status"]) for s in listed] == [("vm1", "ACTIVE")]
    shown = as_json(info, "demo", "server", "show", "vm1")
    assert shown["id"] == created["id"] and shown["flavor"]
    assert shown["key_name"] == "k1"
    openstack(info, "demo", "server", "delete", "--wait", "vm1")
    assert as_json(info, "demo", "server", "list") == []


def test_admin_manages_projects_users_and_roles(info):
    assert {"admin", "demo"} <= {p["Name"] for p in as_json(info, "admin", "project", "list")}
    assert {"admin", "demo"} <= {u["Name"] for u in as_json(info, "admin", "user", "list")}
    assert {"admin", "member", "reader"} <= {
        r["Name"] for r in as_json(info, "admin", "role", "list")}
    project = as_json(info, "admin", "project", "create", "p2")
    user = as_json(info, "admin", "user", "create", "--project", "p2", "--password", "x",
                   "u2")
    assert user["default_project_id"] == project["id"]
    openstack(info, "admin", "role", "add", "--project", "p2", "--user", "u2", "member")
    assignments = as_json(info, "admin", "role", "assignment", "list", "--user", "u2",
                          "--names")
    assert [(a["Role"], a["Project"]) for a in assignments] == [("member", "p2@Default")]


def _status(info: dict, name: str) -> tuple[str, str | None]:
    shown = as_json(info, "demo", "server", "show", name)
    return shown["status"], shown.get("OS-EXT-STS:task_state")


def _wait_status(info: dict, name: str, status: str, timeout: float = 60.0) -> None:
    import time
    deadline = time.monotonic() + timeout
    while _status(info, name) != (status, None):
        assert time.monotonic() < deadline, f"{name} never {status}: {_status(info, name)}"
        time.sleep(0.5)


def test_demo_stops_starts_reboots_resizes_and_lists_the_events(info):
    group = as_json(info, "demo", "server", "group", "create", "--policy",
                    "anti-affinity", "spread")
    assert group["name"] == "spread"
    created = as_json(info, "demo", "server", "create", "--flavor", "m1.tiny",
                      "--image", info["default_image_id"], *_no_network(info),
                      "--hint", f"group={group['id']}", "--wait", "vm2")
    assert created["status"] == "ACTIVE"
    openstack(info, "demo", "server", "stop", "vm2")
    _wait_status(info, "vm2", "SHUTOFF")
    openstack(info, "demo", "server", "start", "vm2")
    _wait_status(info, "vm2", "ACTIVE")
    openstack(info, "demo", "server", "reboot", "--hard", "--wait", "vm2")
    _wait_status(info, "vm2", "ACTIVE")
    openstack(info, "demo", "server", "resize", "--flavor", "m1.small", "--wait", "vm2")
    _wait_status(info, "vm2", "VERIFY_RESIZE")
    openstack(info, "demo", "server", "resize", "confirm", "vm2")
    _wait_status(info, "vm2", "ACTIVE")
    assert "m1.small" in str(as_json(info, "demo", "server", "show", "vm2")["flavor"])
    events = as_json(info, "demo", "server", "event", "list", "vm2")
    actions = [e["Action"] for e in events]
    assert sorted(actions) == sorted(["create", "stop", "start", "reboot", "resize",
                                      "confirmResize"])
    members = as_json(info, "demo", "server", "group", "show", "spread")["members"]
    assert created["id"] in members
    openstack(info, "demo", "server", "delete", "--wait", "vm2")


def test_admin_asks_an_aggregates_hosts_to_cache_an_image(info):
    services = as_json(info, "admin", "compute", "service", "list")
    host = next(s["Host"] for s in services if s["Binary"] == "nova-compute")
    aggregate = as_json(info, "admin", "aggregate", "create", "cachers")
    openstack(info, "admin", "aggregate", "add", "host", "cachers", host)
    # The command needs 2.81, which OSC negotiates with the API; it prints nothing.
    assert openstack(info, "admin", "aggregate", "cache", "image", "cachers",
                     info["default_image_id"]) == ""
    openstack(info, "admin", "aggregate", "remove", "host", "cachers", host)
    openstack(info, "admin", "aggregate", "delete", str(aggregate["id"]))


def test_admin_shows_a_hypervisor_and_pins_a_server_to_it_by_zone(info):
    """``hypervisor show`` asks for the uptime before 2.88 and takes the cloud's 501 as
    "not known"; ``--availability-zone nova:HOST`` puts the server on HOST; a group's
    rule goes as the string the CLI sends."""
    hosts = [h["Hypervisor Hostname"] for h in as_json(info, "admin", "hypervisor", "list")]
    shown = as_json(info, "admin", "hypervisor", "show", hosts[0])
    assert shown["hypervisor_hostname"] == hosts[0] and "uptime" not in shown
    for host in hosts:  # each, so that no choice of the scheduler's passes by chance
        created = as_json(info, "admin", "server", "create", "--flavor", "m1.tiny",
                          "--image", info["default_image_id"], *_no_network(info),
                          "--availability-zone", f"nova:{host}", "--wait", f"on-{host}")
        assert created["OS-EXT-SRV-ATTR:hypervisor_hostname"] == host
        openstack(info, "admin", "server", "delete", "--wait", f"on-{host}")
    group = as_json(info, "admin", "--os-compute-api-version", "2.64", "server", "group",
                    "create", "--policy", "anti-affinity", "--rule", "max_server_per_host=2",
                    "twos")
    assert group["rules"] == {"max_server_per_host": 2}
    openstack(info, "admin", "server", "group", "delete", "twos")


def test_usage_list_and_show_count_a_projects_servers(info):
    """``usage list`` (admin: every project) and ``usage show`` (a member: their own
    project, with its servers) read os-simple-tenant-usage over the last 4 weeks."""
    as_json(info, "demo", "server", "create", "--flavor", "m1.tiny", "--image",
            info["default_image_id"], *_no_network(info), "--wait", "metered")
    demo = as_json(info, "admin", "project", "show", "demo")["id"]
    # The CLI asks for detailed=True, which Nova reads as not detailed: no servers.
    listed = {row["Project"]: row for row in as_json(info, "admin", "usage", "list")}
    assert float(listed[demo]["CPU Hours"]) > 0
    shown = as_json(info, "demo", "usage", "show")
    assert shown["Project"] == demo and len(shown["Servers"]) >= 1
    assert float(shown["RAM MB-Hours"]) > 0
    openstack(info, "demo", "server", "delete", "--wait", "metered")


# Stopped servers rebuilt and resized stay off, as in Nova, so the CLI's --wait (which
# waits for the status the server had) returns.


def waited(info: dict, *args: str, timeout: float = 60.0) -> None:
    """``openstack ARGS --wait`` as the demo user; it must return within ``timeout``."""
    env = {**os.environ, "OS_CLOUD": "demo", "OS_CLIENT_CONFIG_FILE": str(clouds_yaml(info))}
    try:
        result = subprocess.run([str(OPENSTACK), *args], env=env, capture_output=True,
                                text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        raise AssertionError(f"openstack {' '.join(args)} never returned") from None
    assert result.returncode == 0, f"openstack {' '.join(args)}:\n{result.stderr}"


def stopped(info: dict, name: str) -> None:
    as_json(info, "demo", "server", "create", "--flavor", "m1.tiny",
            "--image", info["default_image_id"], *_no_network(info), "--wait", name)
    waited(info, "server", "stop", name)
    _wait_status(info, name, "SHUTOFF")


def power_state(info: dict, name: str) -> int:
    shown = as_json(info, "demo", "server", "show", name)
    return shown.get("OS-EXT-STS:power_state", shown.get("power_state"))  # OSC's name


def test_rebuild_wait_of_a_stopped_server_returns_with_it_shutoff(info):
    stopped(info, "rebuilt-off")
    waited(info, "server", "rebuild", "--image", "cloud-test-image", "--wait", "rebuilt-off")
    _wait_status(info, "rebuilt-off", "SHUTOFF", timeout=5)
    assert power_state(info, "rebuilt-off") == 4
    waited(info, "server", "delete", "--wait", "rebuilt-off")


def test_resize_of_a_stopped_server_keeps_it_off_through_confirm_and_revert(info):
    for name, finish in [("resized-off", "confirm"), ("reverted-off", "revert")]:
        stopped(info, name)
        waited(info, "server", "resize", "--flavor", "m1.small", "--wait", name)
        _wait_status(info, name, "VERIFY_RESIZE", timeout=5)
        assert power_state(info, name) == 4
        waited(info, "server", "resize", finish, name)
        _wait_status(info, name, "SHUTOFF")
        assert power_state(info, name) == 4
        waited(info, "server", "delete", "--wait", name)


def test_admin_lists_hosts_and_shows_one_with_a_server_on_it(info):
    """``host list`` / ``host show`` (os-hosts, the CLI pins 2.1): the services by host,
    and a compute host's capacity with a pinned server counted for its project."""
    listed = as_json(info, "admin", "host", "list")
    computes = sorted(h["Host Name"] for h in listed if h["Service"] == "compute")
    assert computes == ["host1", "host2"]
    assert {h["Zone"] for h in listed if h["Service"] in ("scheduler", "conductor")} == {
        "internal"}
    as_json(info, "admin", "server", "create", "--flavor", "m1.tiny", "--image",
            info["default_image_id"], *_no_network(info), "--availability-zone",
            "nova:host1", "--wait", "on-host1")
    try:
        rows = as_json(info, "admin", "host", "show", "host1")
        assert [r["Project"] for r in rows[:3]] == ["(total)", "(used_now)", "(used_max)"]
        assert all(r["Host"] == "host1" for r in rows) and rows[0]["CPU"] > 0
        projects = rows[3:]
        assert projects and rows[2]["CPU"] == sum(r["CPU"] for r in projects) >= 1
        assert rows[2]["Memory MB"] >= 512
    finally:
        openstack(info, "admin", "server", "delete", "--wait", "on-host1")
