"""Boot N servers through the API of a running cloud, wait for all ACTIVE, delete them.

    python bench/boot.py [-n 200] [--concurrency 20] [--state-dir .cloud]

Reads the API URL, the admin's credentials and the read-only NATS credentials from
``<state-dir>/endpoints.json`` (written by ``cloud up``); logs in as admin for a token. Latency is measured from sending the POST to the moment the
InstanceSpawned event of that server arrives on NATS; the wall-clock rate counts from the
first POST to the last ACTIVE. Prints one JSON line of results.
"""

import argparse
import asyncio
import json
import statistics
import time
from pathlib import Path

import httpx

from cloud.adapters import bus


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(pct / 100 * (len(ordered) - 1))))]


class Watch:
    """Arrival times of events per server id, from the live NATS subject."""

    def __init__(self) -> None:
        self.arrived: dict[tuple[str, str], float] = {}
        self.changed = asyncio.Event()

    async def on_message(self, msg) -> None:
        _, _, _, server_id, name = msg.subject.split(".")
        self.arrived[(server_id, name)] = time.perf_counter()
        self.changed.set()

    async def wait_all(self, ids: list[str], event: str, timeout: float) -> None:
        deadline = time.perf_counter() + timeout
        while not all((i, event) in self.arrived or (i, "InstanceFailed") in self.arrived
                      for i in ids):
            self.changed.clear()
            remaining = deadline - time.perf_counter()
            if remaining <= 0:
                raise TimeoutError(f"not every server reached {event}")
            try:
                await asyncio.wait_for(self.changed.wait(), timeout=remaining)
            except TimeoutError:
                pass


async def boot(client: httpx.AsyncClient, flavor: str, image: str, n: int,
               limit: asyncio.Semaphore, sent: dict[str, float]) -> str:
    async with limit:
        started = time.perf_counter()
        response = await client.post("/servers", json={"server": {
            "name": f"bench-{n}", "flavorRef": flavor, "imageRef": image, "networks": "none"}})
        response.raise_for_status()
        server_id = response.json()["server"]["id"]
        sent[server_id] = started
        return server_id


async def login(info: dict) -> tuple[str, str]:
    """A Keystone token for the admin user, and the id of the admin project it is for."""
    domain = {"name": info["user_domain_name"]}
    body = {"auth": {"identity": {"methods": ["password"], "password": {"user": {
        "name": info["admin_username"], "password": info["admin_password"],
        "domain": domain}}}, "scope": {"project": {
            "name": info["admin_project_name"], "domain": domain}}}}
    async with httpx.AsyncClient(timeout=30) as client:
        response = await client.post(f"{info['auth_url']}/v3/auth/tokens", json=body)
        response.raise_for_status()
        return response.headers["X-Subject-Token"], response.json()["token"]["project"]["id"]


async def run(args) -> dict[str, object]:
    info = json.loads((args.state_dir / "endpoints.json").read_text())
    nc = await bus.connect(info["nats_url"], user=info["nats_user"],
                           password=info["nats_password"], name="bench")
    watch = Watch()
    await nc.subscribe("cloud.events.instance.*.*", cb=watch.on_message)
    limit, sent = asyncio.Semaphore(args.concurrency), {}
    token, project_id = await login(info)
    async with httpx.AsyncClient(base_url=info["compute_url"], timeout=60,
                                 headers={"X-Auth-Token": token}) as client:
        # The default quota (10 servers) would refuse most of the run.
        unlimited = {"quota_set": {"instances": -1, "cores": -1, "ram": -1}}
        (await client.put(f"/os-quota-sets/{project_id}", json=unlimited)).raise_for_status()
        t0 = time.perf_counter()
        ids = await asyncio.gather(*(boot(client, args.flavor, info["default_image_id"], n,
                                          limit, sent) for n in range(args.n)))
        posted = time.perf_counter()
        await watch.wait_all(ids, "InstanceSpawned", args.timeout)
        all_active = time.perf_counter()
        failed = [i for i in ids if (i, "InstanceFailed") in watch.arrived]
        latencies = [watch.arrived[(i, "InstanceSpawned")] - sent[i]
                     for i in ids if (i, "InstanceSpawned") in watch.arrived]
        d0 = time.perf_counter()
        await asyncio.gather(*(client.delete(f"/servers/{i}") for i in ids))
        await watch.wait_all(ids, "InstanceDeleted", args.timeout)
        deleted = time.perf_counter()
    await nc.close()
    return {
        "servers": args.n, "failed": len(failed), "concurrency": args.concurrency,
        "post_rate_per_s": round(args.n / (posted - t0), 1),
        "boot_rate_per_s": round(len(latencies) / (all_active - t0), 1),
        "active_latency_p50_s": round(statistics.median(latencies), 3) if latencies else None,
        "active_latency_p95_s": round(percentile(latencies, 95), 3) if latencies else None,
        "delete_rate_per_s": round(args.n / (deleted - d0), 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=200)
    parser.add_argument("--concurrency", type=int, default=20)
    parser.add_argument("--flavor", default="42", help="flavor id (default m1.nano)")
    parser.add_argument("--state-dir", type=Path, default=Path(".cloud"))
    parser.add_argument("--timeout", type=float, default=300)
    print(json.dumps(asyncio.run(run(parser.parse_args()))))


if __name__ == "__main__":
    main()
