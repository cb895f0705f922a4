"""The envelope every event travels in: the same JSON is stored in PostgreSQL and
published on NATS, so a person running ``nats sub`` reads exactly what the log holds."""

import msgspec

from cloud.domain.events import EVENT_TYPES, Event


class Actor(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    """Who caused an event: a user in a project, or one of the cloud's agents."""

    user_id: str | None = None
    project_id: str | None = None
    agent: str | None = None


class Context(msgspec.Struct, frozen=True, kw_only=True):
    """What rides along from the request that caused the events."""

    request_id: str | None = None
    actor: Actor = Actor()
    timestamp: str = ""


class Envelope(msgspec.Struct, frozen=True, kw_only=True):
    event: str
    aggregate: str
    id: str
    key: str
    version: int
    timestamp: str
    request_id: str | None
    actor: Actor
    data: Event


class _RawEnvelope(msgspec.Struct, frozen=True, kw_only=True):
    event: str
    aggregate: str
    id: str
    key: str
    version: int
    timestamp: str
    request_id: str | None = None
    actor: Actor = Actor()
    data: msgspec.Raw = msgspec.Raw(b"{}")


_encoder = msgspec.json.Encoder()
_raw_decoder = msgspec.json.Decoder(_RawEnvelope)
_data_decoders = {name: msgspec.json.Decoder(cls) for name, cls in EVENT_TYPES.items()}


def encode(envelope: Envelope) -> bytes:
    """The envelope as JSON bytes."""
    return _encoder.encode(envelope)


def decode(payload: bytes) -> Envelope:
    """Parse an envelope and its event, by the event's stable name."""
    raw = _raw_decoder.decode(payload)
    data = _data_decoders[raw.event].decode(raw.data)
    return Envelope(event=raw.event, aggregate=raw.aggregate, id=raw.id, key=raw.key,
                    version=raw.version, timestamp=raw.timestamp,
                    request_id=raw.request_id, actor=raw.actor, data=data)
