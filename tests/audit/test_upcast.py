"""A log recorded with an older event shape still replays: the upcaster fills in what
the old shape lacked, before msgspec sees it."""

import uuid

import psycopg
from eventsourcing.persistence import StoredEvent

from cloud.adapters.eventstore import EventStore
from cloud.audit_compare import compare_read_models
from cloud.audit_log import check_log
from cloud.domain import envelope, upcasters
from cloud.projections import projector
from cloud.services.repository import load_instance

SERVER = "0e5b7c1a-9d2e-4c55-8a61-3f0b2c4d5e6f"
# An InstanceRequested as written before microversion 2.3's fields existed (schema 1:
# no "schema" key, no hostname, reservation_id, user_data or description).
OLD_REQUESTED = (
    b'{"event":"InstanceRequested","aggregate":"instance",'
    b'"id":"0e5b7c1a-9d2e-4c55-8a61-3f0b2c4d5e6f","key":"0e5b7c1a-9d2e-4c55-8a61-3f0b2c4d5e6f",'
    b'"version":1,"timestamp":"2025-03-01T09:00:00+00:00","request_id":"req-old",'
    b'"actor":{"user_id":"alice","project_id":"p1"},'
    b'"data":{"name":"Old Web_1","project_id":"p1","user_id":"alice",'
    b'"flavor":{"flavorid":"1","name":"m1.tiny","vcpus":1,"ram":512,"disk":1},'
    b'"image_ref":"d3f1c0de-0000-4000-8000-00000000c10d","metadata":{}}}')
OLD_SCHEDULED = (
    b'{"event":"InstanceScheduled","aggregate":"instance",'
    b'"id":"0e5b7c1a-9d2e-4c55-8a61-3f0b2c4d5e6f","key":"0e5b7c1a-9d2e-4c55-8a61-3f0b2c4d5e6f",'
    b'"version":2,"timestamp":"2025-03-01T09:00:01+00:00","request_id":"req-old",'
    b'"actor":{"agent":"scheduler"},'
    b'"data":{"host":"h1","node":"h1","name":"Old Web_1",'
    b'"flavor":{"flavorid":"1","name":"m1.tiny","vcpus":1,"ram":512,"disk":1},'
    b'"image_ref":"d3f1c0de-0000-4000-8000-00000000c10d"}}')


def record_old_log(store: EventStore) -> None:
    stream = uuid.UUID(SERVER)
    store.recorder.insert_events([
        StoredEvent(originator_id=stream, originator_version=version, topic=topic, state=state)
        for version, topic, state in ((1, "InstanceRequested", OLD_REQUESTED),
                                      (2, "InstanceScheduled", OLD_SCHEDULED))])


def test_an_old_log_replays_through_the_upcaster(database_url):
    store = EventStore(database_url)
    record_old_log(store)
    with psycopg.connect(database_url, autocommit=True) as conn:
        projector.catch_up(store, conn)
        row = conn.execute("SELECT name, hostname, host, task_state FROM servers"
                           " WHERE id = %s", (SERVER,)).fetchone()
    assert row == ("Old Web_1", "old-web-1", "h1", "spawning")
    state, version = load_instance(store, SERVER)
    assert (state.name, state.host, version) == ("Old Web_1", "h1", 2)
    assert check_log(database_url)[1] == []
    assert compare_read_models(database_url, store)[1] == []
    store.close()


def test_old_and_new_envelopes_decode_to_the_current_shape():
    old = envelope.decode(OLD_REQUESTED)
    assert old.schema == upcasters.current_schema("InstanceRequested") == 2
    assert old.data.hostname == "old-web-1" and old.data.reservation_id == ""
    # Written again, it carries its schema, and reads back unchanged (no second upcast).
    assert b'"schema":2' in envelope.encode(old)
    assert envelope.decode(envelope.encode(old)) == old
    # Events whose shape never changed are written without a schema key, as before.
    scheduled = envelope.decode(OLD_SCHEDULED)
    assert scheduled.schema == 1 and b'"schema"' not in envelope.encode(scheduled)
