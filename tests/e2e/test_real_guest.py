"""A real QEMU guest (TCG) through the whole cloud: the API, relay, scheduler, conductor,
projector and a compute agent on libvirt's embedded QEMU driver, all real processes.

The test image (scripts/build-test-image.sh) is uploaded through the image API; the agent
fetches it over HTTP with its own service account, boots it, stops it with the ACPI
button, starts and reboots it, and deletes it. A guest that goes away behind the agent's
back shows up as SHUTOFF through the agent's power sync. Skipped only when there is no
qemu-system-x86_64 (apt packages: qemu-system-x86, qemu-utils, libvirt-daemon-driver-qemu,
libvirt-daemon-system).
"""

import asyncio
import os
import secrets
import shutil
import signal
import sys
import subprocess
import tempfile
import time
from pathlib import Path

import httpx
import pytest

from cloud.adapters.embedded import EmbeddedNats, free_port, port_is_open
from cloud.adapters.libvirt_connection import embedded_qemu_uri
from cloud.manage import db_sync
from tests.agents.test_boot_flow import start_stack, wait_until
from tests.conftest import (
    NATS_CONF,
    Nats,
    Processes,
    new_passwords,
    password_env,
    streams_sync,
)

pytestmark = [pytest.mark.e2e, pytest.mark.skipif(
    shutil.which("qemu-system-x86_64") is None,
    reason="qemu-system-x86_64 is not installed (apt-get install qemu-system-x86)")]

REPO = Path(__file__).resolve().parents[2]
READY, PRESSED = "CLOUD-TEST-GUEST READY", "CLOUD-TEST-GUEST POWER BUTTON"
BOOT_TIMEOUT = 120  # a boot takes ~15 s on two shared cores under TCG
COMPUTE = "/compute/v2.1"


class RealCloud:
    def __init__(self, api: str, instances: Path, processes: Processes) -> None:
        self.api, self.instances, self.processes = api, instances, processes
        self.http = httpx.Client(base_url=api, timeout=60)
        self.token = ""

    def login(self, user: str, password: str, project: str) -> None:
        domain = {"name": "Default"}
        response = self.http.post("/identity/v3/auth/tokens", json={"auth": {
            "identity": {"methods": ["password"], "password": {"user": {
                "name": user, "domain": domain, "password": password}}},
            "scope": {"project": {"name": project, "domain": domain}}}})
        assert response.status_code == 201, response.text
        self.http.headers["X-Auth-Token"] = response.headers["X-Subject-Token"]

    def server(self, server_id: str) -> httpx.Response:
        return self.http.get(f"{COMPUTE}/servers/{server_id}")

    def status(self, server_id: str) -> dict:
        response = self.server(server_id)
        assert response.status_code == 200, response.text
        return response.json()["server"]

    def wait_status(self, server_id: str, status: str, timeout: float = BOOT_TIMEOUT) -> dict:
        try:
            return wait_until(lambda: (s := self.status(server_id))["status"] == status
                              and s["OS-EXT-STS:task_state"] is None and s,
                              timeout=timeout, every=0.5)
        except AssertionError:
            raise AssertionError(f"not {status}: {self.status(server_id)}\n"
                                 f"{self.processes.log('compute-host1')[-3000:]}") from None

    def act(self, server_id: str, body: dict) -> None:
        response = self.http.post(f"{COMPUTE}/servers/{server_id}/action", json=body)
        assert response.status_code == 202, response.text

    def console(self, server_id: str) -> str:
        """The serial log: the console API when it answers, else the driver's file."""
        response = self.http.post(f"{COMPUTE}/servers/{server_id}/action",
                                  json={"os-getConsoleOutput": {}})
        if response.status_code == 200:
            return response.json()["output"]
        log = self.instances / server_id / "console.log"
        return log.read_text(errors="replace") if log.exists() else ""

    def wait_console(self, server_id: str, line: str, count: int) -> float:
        start = time.monotonic()
        while self.console(server_id).count(line) < count:
            if time.monotonic() - start > BOOT_TIMEOUT:
                pytest.fail(f"no {line!r} #{count}:\n{self.console(server_id)}")
            time.sleep(0.5)
        return time.monotonic() - start

    def boot(self, name: str, image_id: str) -> str:
        response = self.http.post(f"{COMPUTE}/servers", json={"server": {
            "name": name, "imageRef": image_id, "flavorRef": "1"}})
        assert response.status_code == 202, response.text
        return response.json()["server"]["id"]


def _test_image() -> Path:
    out = subprocess.run([REPO / "scripts" / "build-test-image.sh"], check=True,
                         capture_output=True, text=True, timeout=600)
    return REPO / out.stdout.strip().splitlines()[-1]


def _service_account(database_url: str, password: str) -> None:
    """What an operator does once: a ``service`` project and the agent's admin user."""
    env = {**os.environ, "CLOUD_DATABASE_URL": database_url}
    for args in (["project", "create", "service"],
                 ["user", "create", "nova", f"--password={password}", "--project", "service",
                  "--role", "admin"]):
        subprocess.run([sys.executable, "-m", "cloud.cli", "manage", *args], env=env,
                       check=True, cwd=REPO, capture_output=True, timeout=60)


@pytest.fixture(scope="module")
def real_cloud(databases, tmp_path_factory):
    image = _test_image()
    database_url = databases.make(schema=False)
    demo_password, service_password = secrets.token_urlsafe(12), secrets.token_urlsafe(12)
    db_sync(database_url, passwords={"demo": demo_password})
    passwords = new_passwords()
    nats = EmbeddedNats(NATS_CONF, tmp_path_factory.mktemp("nats"), port=free_port(),
                        env=password_env(passwords))
    url = nats.start()
    asyncio.run(streams_sync(url, user="admin", password=passwords["admin"]))
    processes = Processes(tmp_path_factory.mktemp("logs"))
    _service_account(database_url, service_password)
    bus = Nats(url, passwords)
    start_stack(processes, bus, database_url, hosts=())
    port = free_port()
    api = f"http://127.0.0.1:{port}"
    processes.start("api", "api", "--port", str(port), "--image-dir",
                    str(tmp_path_factory.mktemp("images")),
                    env={"CLOUD_DATABASE_URL": database_url, **bus.env("api")})
    # Short: QEMU's monitor socket lives below it and socket paths are limited.
    root = Path(tempfile.mkdtemp(prefix="lv-", dir="/tmp"))
    instances = tmp_path_factory.mktemp("instances")
    processes.start("compute-host1", "compute", "--host", "host1",
                    "--libvirt-uri", embedded_qemu_uri(root), "--instances-path",
                    str(instances), "--image-api", f"{api}/image", env={
                        **bus.env("compute"), "CLOUD_POWER_SYNC_EVERY": "2",
                        "CLOUD_IDENTITY_URL": f"{api}/identity",
                        "CLOUD_SERVICE_USER": "nova", "CLOUD_SERVICE_PASSWORD":
                        service_password, "CLOUD_SERVICE_PROJECT": "service"})
    wait_until(lambda: port_is_open("127.0.0.1", port), timeout=60)
    cloud = RealCloud(api, instances, processes)
    cloud.login("demo", demo_password, "demo")
    wait_until(lambda: cloud.http.get(f"{COMPUTE}/servers").status_code == 200)
    cloud.image_id = _upload(cloud, image)
    cloud.root = root
    yield cloud
    processes.stop_all()
    for pid in qemu_pids(str(root)):  # guests a failed test left behind outlive the agent
        os.kill(pid, signal.SIGKILL)
    nats.stop()
    shutil.rmtree(root, ignore_errors=True)


def _upload(cloud: RealCloud, image: Path) -> str:
    response = cloud.http.post("/image/v2/images", json={
        "name": "cloud-test-guest", "disk_format": "qcow2", "container_format": "bare"})
    assert response.status_code == 201, response.text
    image_id = response.json()["id"]
    response = cloud.http.put(f"/image/v2/images/{image_id}/file", content=image.read_bytes(),
                              headers={"Content-Type": "application/octet-stream"})
    assert response.status_code == 204, response.text
    assert cloud.http.get(f"/image/v2/images/{image_id}").json()["status"] == "active"
    return image_id


def qemu_pids(needle: str) -> list[int]:
    """The QEMU processes whose command line names this guest's uuid (or libvirt root)."""
    pids = []
    for proc in Path("/proc").iterdir():
        try:
            cmdline = (proc / "cmdline").read_bytes() if proc.name.isdigit() else b""
            if b"qemu-system" in cmdline.split(b"\0")[0] and needle.encode() in cmdline:
                pids.append(int(proc.name))
        except OSError:
            continue
    return pids


def test_a_real_guest_boots_stops_starts_reboots_and_is_gone_after_delete(real_cloud):
    cloud = real_cloud
    started = time.monotonic()
    server_id = cloud.boot("real", cloud.image_id)
    assert cloud.wait_status(server_id, "ACTIVE")["OS-EXT-STS:power_state"] == 1
    cloud.wait_console(server_id, READY, 1)
    booted = time.monotonic() - started

    cloud.act(server_id, {"os-stop": None})
    assert cloud.wait_status(server_id, "SHUTOFF")["OS-EXT-STS:power_state"] == 4
    assert cloud.console(server_id).count(PRESSED) == 1  # graceful: the ACPI button
    cloud.act(server_id, {"os-start": None})
    assert cloud.wait_status(server_id, "ACTIVE")["OS-EXT-STS:power_state"] == 1
    cloud.wait_console(server_id, READY, 2)
    cloud.act(server_id, {"reboot": {"type": "SOFT"}})
    cloud.wait_status(server_id, "ACTIVE")
    cloud.wait_console(server_id, READY, 3)
    assert qemu_pids(server_id)

    assert cloud.http.delete(f"{COMPUTE}/servers/{server_id}").status_code == 204
    wait_until(lambda: cloud.server(server_id).status_code == 404, timeout=60)
    assert not (cloud.instances / server_id).exists()  # its disk and console log
    assert list((cloud.instances / "_base").iterdir())  # the cached base image stays
    wait_until(lambda: not qemu_pids(server_id), timeout=30)
    # Gone from libvirt too: the embedded driver keeps no definition of it.
    assert not [p for p in cloud.root.rglob("*.xml") if server_id in p.read_text()]
    print(f"boot to READY {booted:.1f}s, whole cycle {time.monotonic() - started:.1f}s")


def test_a_guest_that_goes_away_behind_the_agents_back_shows_shutoff(real_cloud):
    cloud = real_cloud
    server_id = cloud.boot("self-off", cloud.image_id)
    cloud.wait_status(server_id, "ACTIVE")
    cloud.wait_console(server_id, READY, 1)
    for pid in qemu_pids(server_id):
        os.kill(pid, signal.SIGTERM)  # QEMU exits as if the guest had powered off
    # Nobody asked: the agent's power sync (every 2 s here) is what tells the cloud.
    shown = cloud.wait_status(server_id, "SHUTOFF", timeout=30)
    assert shown["OS-EXT-STS:power_state"] == 4
    cloud.act(server_id, {"os-start": None})
    cloud.wait_status(server_id, "ACTIVE")
    cloud.wait_console(server_id, READY, 2)
    assert cloud.http.delete(f"{COMPUTE}/servers/{server_id}").status_code == 204
    wait_until(lambda: cloud.server(server_id).status_code == 404, timeout=60)
