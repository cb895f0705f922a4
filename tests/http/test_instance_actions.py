"""``os-instance-actions`` over HTTP: each request to a server is an action keyed by the
request id the API answered with, and its steps come from the events the scheduler,
conductor and compute agents record. Real PostgreSQL log and projector; one flow through
real agent processes on libvirt's test driver, the others driven by the agents' own
services (as tests/agents/test_reschedule.py does)."""

import uuid
from typing import NamedTuple

import psycopg
import pytest
from litestar.testing import TestClient

from cloud.adapters.eventstore import EventStore
from cloud.agents.reports import Spawned, SpawnFailed
from cloud.domain.envelope import Actor, Context
from cloud.domain.events import Fault
from cloud.domain.flavor import DEFAULT_FLAVORS
from cloud.domain.service import COMPUTE
from cloud.http import microversions
from cloud.http.app import create_app
from cloud.projections import instance_actions, projector
from cloud.projections.instance_actions import InstanceActionQueries
from cloud.projections.queries import ReadModels
from cloud.services import catalog, conductor, hosts, instances, scheduling
from cloud.util import utcnow
from tests.agents.test_boot_flow import start_stack, wait_until

API = "/compute/v2.1"
MAX = microversions.MAX_VERSION
ACTION_KEYS = {"action", "instance_uuid", "request_id", "user_id", "project_id",
               "start_time", "message"}
STEP_KEYS = {"event", "start_time", "finish_time", "result"}


def headers(version="2.1", *, role="member", project="demo", user="alice"):
    roles = {"admin": "admin,member,reader", "member": "member,reader",
             "reader": "reader"}[role]
    return {"X-Auth-User": "admin" if role == "admin" else user,
            "X-Auth-Project-Id": "admin" if role == "admin" else project,
            "X-Roles": roles, "OpenStack-API-Version": f"compute {version}"}


def beyond_max(version):
    return pytest.mark.skipif(MAX < microversions.parse(version),
                              reason=f"served up to {MAX}; {version} behaviour waits")


def boot(client, name="vm"):
    body = {"server": {"name": name, "imageRef": catalog.DEFAULT_IMAGE_ID, "flavorRef": "1"}}
    response = client.post(f"{API}/servers", json=body, headers=headers())
    assert response.status_code == 202, response.text
    return response.json()["server"]["id"], response.headers["x-openstack-request-id"]


def actions(client, server_id, version="2.1", **kw):
    response = client.get(f"{API}/servers/{server_id}/os-instance-actions",
                          headers=headers(version, **kw))
    assert response.status_code == 200, response.text
    return response.json()["instanceActions"]


def action(client, server_id, request_id, version="2.1", **kw):
    response = client.get(f"{API}/servers/{server_id}/os-instance-actions/{request_id}",
                          headers=headers(version, **kw))
    assert response.status_code == 200, response.text
    return response.json()["instanceAction"]


def assert_fault(response, status, name, message):
    assert response.status_code == status, response.text
    assert response.json() == {name: {"code": status, "message": message}}


# --- through real agents --------------------------------------------------------------


def request_id_of(response, status):
    assert response.status_code == status, response.text
    return response.headers["x-openstack-request-id"]


def check_boot_and_stop(client, read_models, server_id, created, stopped):
    listed = actions(client, server_id)
    assert [(a["action"], a["request_id"]) for a in listed] == [
        ("stop", stopped), ("create", created)]
    assert all(set(a) == ACTION_KEYS for a in listed)
    assert {(a["user_id"], a["project_id"], a["message"]) for a in listed} == {
        ("alice", "demo", None)}
    build = action(client, server_id, created, role="admin")["events"]
    assert [(s["event"], s["result"], s["traceback"]) for s in build] == [
        ("compute_build_and_run_instance", "Success", None),
        ("conductor_schedule_and_build_instances", "Success", None)]
    assert build[0]["start_time"] == build[1]["finish_time"]
    steps = action(client, server_id, stopped, role="admin")["events"]
    assert [(s["event"], s["result"]) for s in steps] == [("compute_stop_instance", "Success")]
    rows = InstanceActionQueries(read_models.pool).events(server_id, stopped)
    assert rows[0]["host"] == "host1"


def check_deleted(client, server_id, deleted):
    assert [a["action"] for a in actions(client, server_id, "2.21")] == [
        "delete", "stop", "create"]
    terminate = action(client, server_id, deleted, "2.21", role="admin")["events"]
    assert [(s["event"], s["result"]) for s in terminate] == [
        ("compute_terminate_instance", "Success")]
    assert_fault(client.get(f"{API}/servers/{server_id}/os-instance-actions",
                            headers=headers("2.20")),
                 404, "itemNotFound", f"Instance {server_id} could not be found.")


def test_boot_stop_and_delete_through_agents_are_three_actions(
        nats_server, database_url, processes):
    start_stack(processes, nats_server, database_url, hosts=("host1",))
    store, read_models = EventStore(database_url), ReadModels(database_url)
    wait_until(lambda: read_models.hosts() and read_models.hosts()[0]["last_seen_at"])
    with TestClient(create_app(store=store, read_models=read_models)) as client:
        server = f"{API}/servers/{{}}"
        server_id, created = boot(client)
        wait_until(lambda: client.get(server.format(server_id), headers=headers())
                   .json()["server"]["status"] == "ACTIVE", timeout=60)
        stopped = request_id_of(client.post(server.format(server_id) + "/action",
                                            json={"os-stop": None}, headers=headers()), 202)
        wait_until(lambda: action(client, server_id, stopped, role="admin")["events"][0]
                   ["finish_time"], timeout=60)
        check_boot_and_stop(client, read_models, server_id, created, stopped)
        deleted = request_id_of(client.delete(server.format(server_id), headers=headers()),
                                204)
        wait_until(lambda: client.get(server.format(server_id),
                                      headers=headers()).status_code == 404, timeout=60)
        check_deleted(client, server_id, deleted)
    read_models.close()
    store.close()


# --- driven by the agents' services ---------------------------------------------------


class Cloud(NamedTuple):
    client: TestClient
    store: EventStore
    read_models: ReadModels
    url: str


def agent(name, request_id=None):
    return Context(request_id=request_id, actor=Actor(agent=name), timestamp=utcnow())


def beat(url):
    with psycopg.connect(url, autocommit=True) as conn:
        for name in ("h1", "h2"):
            conductor.record_heartbeat(conn, name, COMPUTE, utcnow())


@pytest.fixture(scope="module")
def cloud(databases):
    url = databases.make()
    store, read_models = EventStore(url), ReadModels(url)
    for name in ("h1", "h2"):
        hosts.register(store, name, context=agent("conductor"), hypervisor_type="QEMU",
                       hypervisor_hostname=name, vcpus=8, memory_mb=8192, disk_gb=100)
    app = create_app(store=store, read_models=read_models)
    with projector.in_background(url), TestClient(app) as client:
        yield Cloud(client, store, read_models, url)
    read_models.close()
    store.close()


def settle(cloud):
    assert cloud.read_models.wait_for(cloud.store.head())


def report(cloud, message):
    conductor.apply(cloud.store, message, conductor.context_of(message, utcnow()))


def test_a_reschedule_shows_each_build_attempt_with_its_host(cloud):
    server_id, request_id = boot(cloud.client, "retry")
    beat(cloud.url)
    first = scheduling.schedule(cloud.store, cloud.read_models, server_id,
                                context=agent("scheduler", request_id))
    report(cloud, SpawnFailed(host=first, instance_id=server_id, message="disk I/O error",
                              request_id=request_id))
    settle(cloud)
    second = scheduling.schedule(cloud.store, cloud.read_models, server_id,
                                 context=agent("scheduler", request_id))
    assert {first, second} == {"h1", "h2"}
    report(cloud, Spawned(host=second, instance_id=server_id, power_state=1,
                          request_id=request_id))
    settle(cloud)

    shown = action(cloud.client, server_id, request_id, "2.25", role="admin")
    # Nova marks an action whose step failed, even when a retry then worked.
    assert (shown["action"], shown["message"]) == ("create", "Error")
    assert [(s["event"], s["result"]) for s in shown["events"]] == [
        ("compute_build_and_run_instance", "Success"),
        ("compute_build_and_run_instance", "Error"),
        ("conductor_schedule_and_build_instances", "Success")]
    assert all(set(s) == STEP_KEYS | {"traceback"} for s in shown["events"])
    rows = InstanceActionQueries(cloud.read_models.pool).events(server_id, request_id)
    assert [(r["host"], r["details"]) for r in rows] == [
        (second, None), (first, "disk I/O error"), ("scheduler", None)]
    assert rows[0]["start_time"] >= rows[1]["finish_time"]


def test_no_valid_host_fails_the_scheduling_step_with_its_explanation(cloud):
    server_id, request_id = boot(cloud.client, "nowhere")
    fault = Fault(code=500, message="No valid host was found. ", details="RamFilter=2")
    instances.fail(cloud.store, server_id, fault=fault,
                   context=agent("scheduler", request_id))
    settle(cloud)
    shown = action(cloud.client, server_id, request_id, role="admin")
    assert shown["message"] == "Error"
    assert [(s["event"], s["result"], s["traceback"]) for s in shown["events"]] == [
        ("conductor_schedule_and_build_instances", "Error", "RamFilter=2")]
    row, = InstanceActionQueries(cloud.read_models.pool).events(server_id, request_id)
    assert (row["details"], row["host"]) == (fault.message, "scheduler")


def test_no_valid_host_after_a_reschedule_is_a_scheduling_step_of_its_own(cloud):
    server_id, request_id = boot(cloud.client, "retry-nowhere")
    beat(cloud.url)
    first = scheduling.schedule(cloud.store, cloud.read_models, server_id,
                                context=agent("scheduler", request_id))
    report(cloud, SpawnFailed(host=first, instance_id=server_id, message="no disk",
                              request_id=request_id))
    instances.fail(cloud.store, server_id, context=agent("scheduler", request_id),
                   fault=Fault(code=500, message="No valid host was found. "))
    settle(cloud)
    rows = InstanceActionQueries(cloud.read_models.pool).events(server_id, request_id)
    assert [(r["event"], r["result"], r["host"]) for r in rows] == [
        ("conductor_schedule_and_build_instances", "Error", "scheduler"),
        ("compute_build_and_run_instance", "Error", first),
        ("conductor_schedule_and_build_instances", "Success", "scheduler")]
    assert rows[0]["start_time"] == rows[1]["finish_time"]


def test_a_timeout_without_request_id_ends_the_latest_actions_step(cloud):
    server_id, request_id = boot(cloud.client, "stuck")
    beat(cloud.url)
    host = scheduling.schedule(cloud.store, cloud.read_models, server_id,
                               context=agent("scheduler", request_id))
    instances.fail(cloud.store, server_id, context=agent("conductor"),
                   fault=Fault(code=500, message="Build did not finish in time."))
    settle(cloud)
    rows = InstanceActionQueries(cloud.read_models.pool).events(server_id, request_id)
    assert [(r["event"], r["result"], r["host"]) for r in rows] == [
        ("compute_build_and_run_instance", "Error", host),
        ("conductor_schedule_and_build_instances", "Success", "scheduler")]


def test_a_deleted_server_is_listed_from_2_21_and_missing_before(cloud):
    server_id, created = boot(cloud.client, "short-lived")
    done = [cloud.client.post(f"{API}/servers/{server_id}/action", json={verb: None},
                              headers=headers()) for verb in ("lock", "unlock")]
    assert [r.status_code for r in done] == [202, 202], [r.text for r in done]
    gone = cloud.client.delete(f"{API}/servers/{server_id}", headers=headers("2.25"))
    assert gone.status_code == 204, gone.text
    deleted = gone.headers["x-openstack-request-id"]
    settle(cloud)
    listed = actions(cloud.client, server_id, "2.21")
    assert [(a["action"], a["request_id"]) for a in listed] == [
        ("delete", deleted),
        ("unlock", done[1].headers["x-openstack-request-id"]),
        ("lock", done[0].headers["x-openstack-request-id"]), ("create", created)]
    # Never scheduled: nothing for a host to do, so the delete has no steps.
    assert action(cloud.client, server_id, deleted, "2.21", role="admin")["events"] == []
    missing = f"Instance {server_id} could not be found."
    for version in ("2.1", "2.20"):
        for path in ("", f"/{deleted}"):
            assert_fault(cloud.client.get(
                f"{API}/servers/{server_id}/os-instance-actions{path}",
                headers=headers(version)), 404, "itemNotFound", missing)


def test_steps_are_for_admins_before_2_51_and_fields_keep_to_their_versions(cloud):
    server_id, request_id = boot(cloud.client, "fields")
    for version in ("2.1", "2.21", "2.25"):
        assert all(set(a) == ACTION_KEYS for a in actions(cloud.client, server_id, version))
        member = action(cloud.client, server_id, request_id, version)
        assert set(member) == ACTION_KEYS
        admin = action(cloud.client, server_id, request_id, version, role="admin")
        assert set(admin) == ACTION_KEYS | {"events"}
        step, = admin["events"]
        assert set(step) == STEP_KEYS | {"traceback"}
        assert (step["event"], step["finish_time"], step["result"]) == (
            "conductor_schedule_and_build_instances", None, None)
    # Query parameters mean nothing before 2.58: they are ignored, not refused.
    response = cloud.client.get(f"{API}/servers/{server_id}/os-instance-actions?limit=0"
                                "&marker=nope&bogus=1", headers=headers("2.25"))
    assert [a["action"] for a in response.json()["instanceActions"]] == ["create"]


def test_readers_of_the_project_see_actions_and_others_do_not(cloud):
    server_id, request_id = boot(cloud.client, "private")
    assert actions(cloud.client, server_id, role="reader")[0]["request_id"] == request_id
    missing = f"Instance {server_id} could not be found."
    for path in ("", f"/{request_id}"):
        assert_fault(cloud.client.get(
            f"{API}/servers/{server_id}/os-instance-actions{path}",
            headers=headers(project="other", user="mallory")), 404, "itemNotFound", missing)
    assert_fault(cloud.client.get(f"{API}/servers/{server_id}/os-instance-actions/req-nope",
                                  headers=headers()),
                 404, "itemNotFound", "Action req-nope not found")
    assert_fault(cloud.client.get(f"{API}/servers/not-a-uuid/os-instance-actions",
                                  headers=headers()),
                 404, "itemNotFound", "Instance not-a-uuid could not be found.")


# --- microversions above what is served today -----------------------------------------


@beyond_max("2.58")
def test_paging_and_changes_since_from_2_58(cloud):
    server_id, created = boot(cloud.client, "paged")
    cloud.client.post(f"{API}/servers/{server_id}/action", json={"lock": None},
                      headers=headers())
    settle(cloud)
    base = f"{API}/servers/{server_id}/os-instance-actions"
    page = cloud.client.get(f"{base}?limit=1", headers=headers("2.58")).json()
    assert [a["action"] for a in page["instanceActions"]] == ["lock"]
    assert "updated_at" in page["instanceActions"][0]
    marker = page["instanceActions"][0]["request_id"]
    assert page["links"][0]["rel"] == "next" and f"marker={marker}" in page["links"][0]["href"]
    rest = cloud.client.get(f"{base}?marker={marker}", headers=headers("2.58")).json()
    assert [a["request_id"] for a in rest["instanceActions"]] == [created]
    assert cloud.client.get(f"{base}?marker=req-nope", headers=headers("2.58")).status_code \
        == 400
    assert cloud.client.get(f"{base}?bogus=1", headers=headers("2.58")).status_code == 400
    future = cloud.client.get(f"{base}?changes-since=2999-01-01T00:00:00",
                              headers=headers("2.58")).json()
    assert future["instanceActions"] == []


@beyond_max("2.62")
def test_non_admins_see_steps_with_host_ids_from_2_62(cloud):
    server_id, request_id = boot(cloud.client, "hashed")
    step, = action(cloud.client, server_id, request_id, "2.62")["events"]
    assert set(step) == STEP_KEYS | {"hostId"}


@beyond_max("2.66")
def test_changes_before_from_2_66(cloud):
    server_id, _ = boot(cloud.client, "windowed")
    base = f"{API}/servers/{server_id}/os-instance-actions?changes-before=2000-01-01T00:00:00"
    assert cloud.client.get(base, headers=headers("2.65")).status_code == 400
    assert cloud.client.get(base, headers=headers("2.66")).json()["instanceActions"] == []
    wrong_way = (f"{API}/servers/{server_id}/os-instance-actions?changes-since=2001-01-01"
                 "T00:00:00&changes-before=2000-01-01T00:00:00")
    assert_fault(cloud.client.get(wrong_way, headers=headers("2.66")), 400, "badRequest",
                 "The value of changes-since must be less than or equal to changes-before.")


@beyond_max("2.84")
def test_admins_see_the_fault_message_as_details_from_2_84(cloud):
    server_id, request_id = boot(cloud.client, "detailed")
    instances.fail(cloud.store, server_id, context=agent("scheduler", request_id),
                   fault=Fault(code=500, message="No valid host was found. "))
    settle(cloud)
    step, = action(cloud.client, server_id, request_id, "2.84", role="admin")["events"]
    assert (step["details"], step["host"]) == ("No valid host was found. ", "scheduler")
    assert "details" not in action(cloud.client, server_id, request_id, "2.83",
                                   role="admin")["events"][0]
    assert "details" not in action(cloud.client, server_id, request_id, "2.84")["events"][0]


# --- the projection itself ------------------------------------------------------------


# Each table with the key that orders its rows.
TABLES = {"instance_actions": "instance_id, request_id",
          "instance_action_events": "instance_id, started_by, event"}


def snapshot(conn):
    return {table: conn.execute(f"SELECT * FROM {table} ORDER BY {key}").fetchall()
            for table, key in TABLES.items()}


def test_replaying_the_same_events_twice_gives_the_same_rows(cloud):
    """Fold every event again, and each one twice in a row, into a copy of the live
    tables (rolled back): nothing changes. Folding into empty tables gives them again."""
    boot(cloud.client, "replayed")
    settle(cloud)
    records = cloud.store.read(0, 100_000)
    with psycopg.connect(cloud.url) as conn:
        live = snapshot(conn)
        assert live["instance_action_events"]
        with conn.cursor() as cur:
            for record in records * 2:
                fold = instance_actions.FOLDS.get(record.envelope.event)
                if fold is not None:
                    fold(cur, record.envelope)
                    fold(cur, record.envelope)
        assert snapshot(conn) == live
        refold(conn, cloud.store)
        assert snapshot(conn) == live
        conn.rollback()


def refold(conn, store):
    """Fold the whole log into emptied instance-action tables, with their folds only."""
    conn.execute(f"TRUNCATE {', '.join(TABLES)}")
    with conn.cursor() as cur:
        for record in store.read(0, 100_000):
            fold = instance_actions.FOLDS.get(record.envelope.event)
            if fold is not None:
                fold(cur, record.envelope)


def test_an_action_recorded_without_request_id_gets_a_stable_one(make_database):
    url = make_database()
    store = EventStore(url)
    server_id, _ = instances.create(
        store, name="cli", flavor=DEFAULT_FLAVORS[0], image_ref=catalog.DEFAULT_IMAGE_ID,
        context=Context(actor=Actor(user_id="u", project_id="p"), timestamp=utcnow()))
    with psycopg.connect(url, autocommit=True) as conn:
        projector.catch_up(store, conn)
        first = snapshot(conn)
        refold(conn, store)
        assert snapshot(conn) == first
    (instance_id, request_id, action_name, user_id, project_id, *_), = \
        first["instance_actions"]
    assert (instance_id, action_name, user_id, project_id) == (
        uuid.UUID(server_id), "create", "u", "p")
    assert request_id.startswith("req-") and uuid.UUID(request_id[4:])
    store.close()
