"""The envelope every event travels in: the same JSON is stored in PostgreSQL and
published on NATS, so a person running ``nats sub`` reads exactly what the log holds."""

import msgspec

from cloud.domain import upcasters
from cloud.domain.events import EVENT_TYPES, Event


class Actor(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True, gc=False):
    """Who caused an event: a user in a project, or one of the cloud's agents."""

    user_id: str | None = None
    project_id: str | None = None
    agent: str | None = None


class Context(msgspec.Struct, frozen=True, kw_only=True):
    """What rides along from the request that caused the events."""

    request_id: str | None = None
    actor: Actor = Actor()
    timestamp: str = ""


class Envelope(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True,
               gc=False):
    event: str
    aggregate: str
    id: str
    key: str
    version: int
    timestamp: str
    request_id: str | None
    actor: Actor
    data: Event
    # The shape of ``data`` (see upcasters.py); written only once it is past 1.
    schema: int = 1


class _RawEnvelope(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    event: str
    aggregate: str
    id: str
    key: str
    version: int
    timestamp: str
    request_id: str | None = None
    actor: Actor = Actor()
    data: msgspec.Raw = msgspec.Raw(b"{}")
    schema: int = 1


_encoder = msgspec.json.Encoder()
_raw_decoder = msgspec.json.Decoder(_RawEnvelope)
_data_decoders = {name: msgspec.json.Decoder(cls) for name, cls in EVENT_TYPES.items()}


def encode(envelope: Envelope) -> bytes:
    """The envelope as JSON bytes, stamped with its event's current schema."""
    schema = upcasters.current_schema(envelope.event)
    if envelope.schema != schema:
        envelope = msgspec.structs.replace(envelope, schema=schema)
    return _encoder.encode(envelope)


def decode(payload: bytes) -> Envelope:
    """Parse an envelope and its event, by the event's stable name."""
    raw = _raw_decoder.decode(payload)
    if raw.schema < upcasters.current_schema(raw.event):
        return _decode_old(payload)
    data = _data_decoders[raw.event].decode(raw.data)
    return Envelope(event=raw.event, aggregate=raw.aggregate, id=raw.id, key=raw.key,
                    version=raw.version, timestamp=raw.timestamp,
                    request_id=raw.request_id, actor=raw.actor, data=data,
                    schema=raw.schema)


def _decode_old(payload: bytes) -> Envelope:
    # Rare (old logs only), so the slower path through plain dicts is fine.
    doc = upcasters.upcast(msgspec.json.decode(payload))
    raw = msgspec.convert({k: v for k, v in doc.items() if k != "data"}, _RawEnvelope)
    return Envelope(event=raw.event, aggregate=raw.aggregate, id=raw.id, key=raw.key,
                    version=raw.version, timestamp=raw.timestamp,
                    request_id=raw.request_id, actor=raw.actor, schema=raw.schema,
                    data=msgspec.convert(doc["data"], EVENT_TYPES[raw.event]))
