"""Three scheduler processes, 300 simultaneous boots, room for exactly 250.

Five compute agents each describe a host with 25,600 MiB (libvirt test-driver node files),
so exactly fifty 512 MiB servers fit per host. One scheduler is killed mid-run: its
unacknowledged requests go to the others. Exactly 250 servers must end ACTIVE, 50 in
ERROR with an explanation, and no host may hold more than it has.
"""

import os
import signal
import time
from concurrent.futures import ThreadPoolExecutor

from cloud.adapters.eventstore import EventStore
from cloud.domain.envelope import Actor, Context
from cloud.domain.events import FlavorSpec
from cloud.projections.queries import ReadModels
from cloud.services import instances, quotas
from cloud.services.catalog import DEFAULT_IMAGE_ID
from cloud.services.repository import load_host
from cloud.up import node_file
from cloud.util import utcnow

HOSTS, PER_HOST, BOOTS = 5, 50, 300
FLAVOR = FlavorSpec(flavorid="c", name="c", vcpus=1, ram=512, disk=1)


def test_three_schedulers_never_overcommit(nats_server, database_url, processes, tmp_path):
    db = {"CLOUD_DATABASE_URL": database_url}
    processes.start("projector", "projector", env=db)
    processes.start("relay", "relay", env={**db, **nats_server.env("relay")})
    processes.start("conductor", "conductor", env={**db, **nats_server.env("conductor")})
    for n in range(HOSTS):
        node = node_file(tmp_path, f"c{n}", cpus=16, memory_gib=1)
        node.write_text(node.read_text().replace(str(2**20), str(PER_HOST * 512 * 1024)))
        processes.start(f"compute-{n}", "compute", "--host", f"c{n}", "--libvirt-uri",
                        f"test://{node}", "--instances-path", str(tmp_path / f"i{n}"),
                        env=nats_server.env("compute"))
    read_models, store = ReadModels(database_url), EventStore(database_url, pool_size=8)
    wait(lambda: len([h for h in read_models.hosts() if h["last_seen_at"]]) == HOSTS, 60)
    schedulers = [processes.start(f"scheduler-{n}", "scheduler",
                                  env={**db, **nats_server.env("scheduler")})
                  for n in range(3)]

    context = Context(request_id="req-race", actor=Actor(user_id="u", project_id="p"),
                      timestamp=utcnow())
    quotas.update_limits(store, "p", {"instances": -1, "cores": -1, "ram": -1}, force=True,
                         context=context)

    def boot(n: int) -> str:
        return instances.create(store, name=f"race-{n}", flavor=FLAVOR,
                                image_ref=DEFAULT_IMAGE_ID, context=context)[0]

    with ThreadPoolExecutor(16) as pool:
        ids = list(pool.map(boot, range(BOOTS)))
    wait(lambda: states(read_models, ids).get("active", 0) >= 100, 120)
    os.kill(schedulers[0].pid, signal.SIGKILL)  # dies with decisions in flight
    wait(lambda: sum(states(read_models, ids).get(s, 0) for s in ("active", "error"))
         == BOOTS, 180)

    assert states(read_models, ids) == {"active": 250, "error": 50}
    for n in range(HOSTS):
        host, _ = load_host(store, f"c{n}")
        assert host.used().memory_mb <= host.memory_mb, f"c{n} overcommitted"
        assert len(host.claims) == PER_HOST
    errors = [read_models.server(i) for i in ids]
    faults = {s["fault"]["message"] for s in errors if s["vm_state"] == "error"}
    assert all(f.startswith("No valid host was found.") for f in faults), faults
    read_models.close()


def states(read_models: ReadModels, ids: list[str]) -> dict[str, int]:
    counts: dict[str, int] = {}
    with read_models.pool.connection() as conn:
        for row in conn.execute("SELECT vm_state, count(*) AS n FROM servers"
                                " WHERE id::text = ANY(%s) GROUP BY vm_state", (ids,)):
            counts[row["vm_state"]] = row["n"]
    return counts


def wait(predicate, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.25)
