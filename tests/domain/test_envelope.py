"""The wire format: stable names, readable JSON, lossless round trip."""

import json

from cloud.domain import envelope
from cloud.domain.envelope import Actor, Envelope
from cloud.domain.events import EVENT_TYPES, Fault, InstanceFailed


def test_an_envelope_round_trips_and_reads_as_plain_json():
    env = Envelope(event="InstanceFailed", aggregate="instance", id="i-1", key="i-1",
                   version=3, timestamp="2026-11-24T06:00:00+00:00", request_id="req-1",
                   actor=Actor(agent="scheduler"),
                   data=InstanceFailed(fault=Fault(code=500, message="No valid host")))
    payload = envelope.encode(env)
    assert envelope.decode(payload) == env
    body = json.loads(payload)
    assert body["event"] == "InstanceFailed" and body["version"] == 3
    assert body["data"]["fault"]["message"] == "No valid host"
    assert body["actor"] == {"agent": "scheduler"}


def test_wire_names_are_class_names_not_module_paths():
    assert all("." not in name and cls.__name__ == name for name, cls in EVENT_TYPES.items())
    assert all(cls.aggregate for cls in EVENT_TYPES.values())
