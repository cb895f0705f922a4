"""``cloud audit verify``: prove the read models and JetStream agree with the log.

Three checks, each printed with what it found; the exit status is 1 if any found a
problem: the log's integrity, the read models against a fresh replay, and (unless
``--skip-nats``) the CLOUD_EVENTS stream against the log.
"""

import asyncio
import sys

from cloud.adapters.eventstore import EventStore
from cloud.audit_compare import compare_read_models
from cloud.audit_log import SHOWN, check_jetstream, check_log
from cloud.settings import Settings


def _report(title: str, problems: list[str], ok: str) -> bool:
    if not problems:
        print(f"ok    {title}: {ok}")
        return True
    print(f"FAIL  {title}: {len(problems)} problem(s)")
    for line in problems[:SHOWN]:
        print(f"      {line}")
    if len(problems) > SHOWN:
        print(f"      … and {len(problems) - SHOWN} more")
    return False


def verify(settings: Settings, *, nats: bool = True, nats_wait: float = 5.0) -> bool:
    """Run every check and print the findings; True when all agree."""
    count, problems = check_log(settings.database_url)
    results = [_report("log integrity", problems, f"{count} events, versions contiguous,"
                       " positions increasing, every event readable")]
    store = EventStore(settings.database_url, pool_size=1)
    try:
        position, differences = compare_read_models(settings.database_url, store)
    finally:
        store.close()
    results.append(_report("read models", differences,
                           f"equal to a fresh replay up to position {position}"))
    if nats:
        problems = asyncio.run(check_jetstream(
            settings.database_url, settings.nats_url, user=settings.nats_user,
            password=settings.nats_password, wait=nats_wait))
        results.append(_report("JetStream CLOUD_EVENTS", problems,
                               f"{count} events, same order, same sha256"))
    else:
        print("skip  JetStream CLOUD_EVENTS (--skip-nats)")
    return all(results)


def main(settings: Settings, *, nats: bool, nats_wait: float) -> None:
    sys.stdout.flush()
    if not verify(settings, nats=nats, nats_wait=nats_wait):
        raise SystemExit(1)
