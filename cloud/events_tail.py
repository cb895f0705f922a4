"""``cloud events tail``: what ``nats sub 'cloud.events.>'`` shows, without the nats CLI."""

import asyncio
import json
import os
import signal
from pathlib import Path

from cloud.adapters import bus


def auditor_settings(state: Path) -> tuple[str, str | None, str | None]:
    """The NATS URL and read-only credentials from ``cloud up``'s endpoints file."""
    path = state / "endpoints.json"
    if path.exists():
        info = json.loads(path.read_text())
        return info["nats_url"], info.get("nats_user"), info.get("nats_password")
    return (os.environ.get("CLOUD_NATS_URL", "nats://127.0.0.1:4222"),
            os.environ.get("CLOUD_NATS_USER"), os.environ.get("CLOUD_NATS_PASSWORD"))


async def tail(subject: str, state: Path, *, pretty: bool = False) -> None:
    """Print every event on ``subject`` as it is published, one JSON document each."""
    url, user, password = auditor_settings(state)
    nc = await bus.connect(url, user=user, password=password, name="cloud-events-tail")
    stop = asyncio.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        asyncio.get_running_loop().add_signal_handler(sig, stop.set)

    async def show(msg) -> None:
        body = json.loads(msg.data)
        text = json.dumps(body, indent=2) if pretty else json.dumps(body)
        print(f"[{msg.subject}] {text}", flush=True)

    await nc.subscribe(subject, cb=show)
    await stop.wait()
    await nc.drain()
