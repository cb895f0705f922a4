"""NATS and JetStream: connections, the streams and consumers, and subject names."""

import msgspec
import nats
from nats.aio.client import Client
from nats.js import JetStreamContext
from nats.js.api import (
    AckPolicy,
    ConsumerConfig,
    DeliverPolicy,
    RetentionPolicy,
    StorageType,
    StreamConfig,
)

EVENTS_STREAM = "CLOUD_EVENTS"
HOSTS_STREAM = "CLOUD_HOSTS"
REPORTS_STREAM = "CLOUD_REPORTS"
SCHEDULER_CONSUMER = "scheduler"
CONDUCTOR_CONSUMER = "conductor"
DEDUPE_WINDOW = 3600.0  # seconds; a relay restarting within it never duplicates

ROLES = ("admin", "relay", "scheduler", "conductor", "compute", "auditor", "api")


def event_subject(aggregate: str, key: str, event: str) -> str:
    """``cloud.events.instance.<uuid>.InstanceScheduled`` and the like."""
    return f"cloud.events.{aggregate}.{_token(key)}.{event}"


def host_subject(host: str, aggregate: str, key: str, event: str) -> str:
    """The copy of an event routed to the compute agent of ``host``."""
    return f"cloud.host.{_token(host)}.{aggregate}.{_token(key)}.{event}"


def report_subject(host: str, kind: str) -> str:
    """Where a compute agent publishes what it did."""
    return f"cloud.reports.{_token(host)}.{kind}"


def console_subject(host: str) -> str:
    """Where the API asks the compute agent of ``host`` for a guest's console log."""
    return f"cloud.rpc.{_token(host)}.console"


class ConsoleRequest(msgspec.Struct, frozen=True, kw_only=True):
    """Core NATS request/reply, not a stream: reading a console changes nothing."""

    instance_id: str
    length: int | None = None  # the last lines wanted; None: all of it


class ConsoleReply(msgspec.Struct, frozen=True, kw_only=True):
    output: str = ""
    # None when it worked; else "not_found" (no such guest here), "not_implemented"
    # (the hypervisor has no console log) or "failed", with a message.
    error: str | None = None
    message: str = ""


def _token(value: str) -> str:
    # A NATS subject token may not hold separators or wildcards.
    return "".join("_" if ch in ".*> \t" else ch for ch in value) or "_"


async def connect(url: str, *, user: str | None = None, password: str | None = None,
                  name: str = "cloud") -> Client:
    """Connect, retrying while the server starts."""
    return await nats.connect(url, user=user, password=password, name=name,
                              connect_timeout=5, max_reconnect_attempts=-1,
                              reconnect_time_wait=0.5)


async def ensure_streams(js: JetStreamContext) -> None:
    """Create (or update) the streams and the shared consumers. Needs the admin user."""
    await _stream(js, StreamConfig(
        name=EVENTS_STREAM, subjects=["cloud.events.>"], storage=StorageType.FILE,
        retention=RetentionPolicy.LIMITS, duplicate_window=DEDUPE_WINDOW))
    await _stream(js, StreamConfig(
        name=HOSTS_STREAM, subjects=["cloud.host.>"], storage=StorageType.FILE,
        retention=RetentionPolicy.INTEREST, duplicate_window=DEDUPE_WINDOW))
    await _stream(js, StreamConfig(
        name=REPORTS_STREAM, subjects=["cloud.reports.>"], storage=StorageType.FILE,
        retention=RetentionPolicy.WORK_QUEUE, duplicate_window=DEDUPE_WINDOW))
    await js.add_consumer(EVENTS_STREAM, ConsumerConfig(
        durable_name=SCHEDULER_CONSUMER, ack_policy=AckPolicy.EXPLICIT, ack_wait=30,
        filter_subjects=["cloud.events.instance.*.InstanceRequested",
                         "cloud.events.instance.*.InstanceRescheduled"],
        deliver_policy=DeliverPolicy.ALL, max_ack_pending=1000))
    await js.add_consumer(REPORTS_STREAM, ConsumerConfig(
        durable_name=CONDUCTOR_CONSUMER, ack_policy=AckPolicy.EXPLICIT, ack_wait=30,
        deliver_policy=DeliverPolicy.ALL, max_ack_pending=1000))


async def _stream(js: JetStreamContext, config: StreamConfig) -> None:
    try:
        await js.add_stream(config)
    except nats.js.errors.BadRequestError:
        await js.update_stream(config)


def compute_consumer(host: str) -> ConsumerConfig:
    """The durable consumer a compute agent reads its host's events through."""
    return ConsumerConfig(
        durable_name=f"compute-{_token(host)}", ack_policy=AckPolicy.EXPLICIT, ack_wait=60,
        filter_subject=f"cloud.host.{_token(host)}.>", deliver_policy=DeliverPolicy.ALL,
        max_ack_pending=256)
