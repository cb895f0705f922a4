"""`cloud up` as a newcomer runs it: embedded PostgreSQL and nats-server, every agent,
two compute hosts on libvirt's test driver; then openstacksdk boots and deletes a server
while a read-only NATS subscriber watches; Ctrl-C stops it; a second `up` keeps state."""

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import openstack
import pytest

from cloud.adapters import bus
from cloud.adapters.embedded import free_port

REPO = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.e2e


class Up:
    def __init__(self, state: Path, port: int) -> None:
        self.state, self.port = state, port
        self.output = state.parent / "up.out"
        self.offset = self.output.stat().st_size if self.output.exists() else 0
        env = {k: v for k, v in os.environ.items() if not k.startswith("CLOUD_")}
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "cloud.cli", "up", "--state-dir", str(state),
             "--api-port", str(port)], cwd=state.parent, env=env,
            stdout=open(self.output, "ab"), stderr=subprocess.STDOUT)

    def wait_ready(self, timeout: float = 120) -> dict:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.proc.poll() is None, self.text()
            if "cloud is up" in self.text():
                return json.loads((self.state / "endpoints.json").read_text())
            time.sleep(0.2)
        raise AssertionError(self.text())

    def text(self) -> str:
        """What this run printed (the file holds earlier runs too)."""
        return self.output.read_bytes()[self.offset:].decode(errors="replace")

    def interrupt(self) -> int:
        self.proc.send_signal(signal.SIGINT)
        return self.proc.wait(timeout=60)


def clouds_yaml(info: dict) -> Path:
    """The clouds.yaml `cloud up` wrote into its state directory."""
    return Path(info["state_dir"]) / "clouds.yaml"


def sdk(info: dict, cloud: str = "demo") -> openstack.connection.Connection:
    """Log in the way users do: a cloud of the generated clouds.yaml (password auth)."""
    previous = os.environ.get("OS_CLIENT_CONFIG_FILE")
    os.environ["OS_CLIENT_CONFIG_FILE"] = str(clouds_yaml(info))
    try:
        return openstack.connect(cloud=cloud)
    finally:
        if previous is None:
            del os.environ["OS_CLIENT_CONFIG_FILE"]
        else:
            os.environ["OS_CLIENT_CONFIG_FILE"] = previous


def wait_for_compute_hosts(conn, info, timeout=60):
    # The two agents register through the conductor; until then a boot is NoValidHost.
    import psycopg
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with psycopg.connect(info["database_url"]) as db:
            if db.execute("SELECT count(*) FROM hosts").fetchone()[0] == 2:
                return
        time.sleep(0.2)
    raise AssertionError("compute hosts did not register")


async def collect_events(info: dict, server_name: str, conn) -> tuple[str, list[dict]]:
    nc = await bus.connect(info["nats_url"], user=info["nats_user"],
                           password=info["nats_password"])
    sub = await nc.subscribe("cloud.events.>")
    server = await asyncio.to_thread(
        conn.compute.create_server, name=server_name, flavor_id="1",
        image_id=info["default_image_id"], networks="none")
    server = await asyncio.to_thread(conn.compute.wait_for_server, server, status="ACTIVE",
                                     wait=60)
    await asyncio.to_thread(conn.compute.delete_server, server)
    await asyncio.to_thread(conn.compute.wait_for_delete, server, wait=60)
    seen = []
    while not seen or seen[-1]["event"] != "InstanceDeleted":
        body = json.loads((await sub.next_msg(timeout=10)).data)
        if body["id"] == server.id:
            seen.append(body)
    await nc.close()
    return server, seen


def test_cloud_up_boots_a_server_for_openstacksdk_and_keeps_state(tmp_path):
    state, port = tmp_path / ".cloud", free_port()
    up = Up(state, port)
    try:
        info = up.wait_ready()
        assert info["compute_url"] == f"http://127.0.0.1:{port}/compute/v2.1"
        assert info["nats_user"] == "auditor" and info["nats_password"]
        assert "sub 'cloud.events.>'" in info["nats_sub"]
        assert info["clouds_yaml"] == [str(tmp_path / "clouds.yaml"), str(clouds_yaml(info))]
        assert info["admin_password"] and "clouds.yaml" in up.text()
        conn = sdk(info)
        assert conn.current_project.name == "demo"
        assert {f.name for f in conn.compute.flavors()} >= {
            "m1.tiny", "m1.small", "m1.medium", "m1.large"}
        wait_for_compute_hosts(conn, info)
        server, events = asyncio.run(collect_events(info, "e2e-1", conn))
        assert server.compute_host in (None, "host1", "host2")
        assert [e["event"] for e in events] == [
            "InstanceRequested", "InstanceScheduled", "InstanceSpawned",
            "InstanceDeleteRequested", "InstanceDeleted"]
        assert [e["version"] for e in events] == [1, 2, 3, 4, 5]
        assert events[1]["data"]["host"] in ("host1", "host2")
        assert all(e["request_id"].startswith("req-") for e in events)
        assert conn.compute.find_server("e2e-1") is None

        kept = conn.compute.create_server(name="kept", flavor_id="1",
                                          image_id=info["default_image_id"], networks="none")
        conn.compute.wait_for_server(kept, status="ACTIVE", wait=60)
    finally:
        assert up.interrupt() == 0
    assert "stopped; state kept" in up.text()

    again = Up(state, port)
    try:
        info = again.wait_ready()
        names = [s.name for s in sdk(info).compute.servers()]
        assert names == ["kept"]
    finally:
        assert again.interrupt() == 0
