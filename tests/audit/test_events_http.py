"""GET /cloud/v1/events (paged history) and /cloud/v1/events/stream (Server-Sent Events),
scoped by who asks: admins see all, a project's members their project's events."""

import json

import pytest
from litestar.testing import TestClient

from cloud.adapters.eventstore import EventStore
from cloud.http.app import create_app
from cloud.projections import projector
from cloud.projections.queries import ReadModels
from cloud.services import catalog

API = "/compute/v2.1"


def member(project: str, user: str = "u") -> dict[str, str]:
    return {"X-Auth-User": user, "X-Auth-Project-Id": project, "X-Roles": "member,reader"}


@pytest.fixture
def client(database_url):
    store = EventStore(database_url)
    read_models = ReadModels(database_url)
    app = create_app(store=store, read_models=read_models)
    with projector.in_background(database_url), TestClient(app) as client:
        for project, name in (("p1", "a"), ("p1", "b"), ("p2", "c")):
            body = {"server": {"name": name, "imageRef": catalog.DEFAULT_IMAGE_ID,
                               "flavorRef": "1"}}
            response = client.post(f"{API}/servers", json=body, headers=member(project))
            assert response.status_code == 202, response.text
        yield client, store
    read_models.close()
    store.close()


def all_pages(client, url: str, headers=None) -> list[dict]:
    events = []
    while url:
        response = client.get(url, headers=headers or {})
        assert response.status_code == 200, response.text
        events += response.json()["events"]
        url = response.json().get("next")
    return events


def test_admins_page_through_the_whole_log(client):
    client, store = client
    log = store.read(0, 100_000)
    first = client.get("/cloud/v1/events?limit=5").json()
    assert [e["position"] for e in first["events"]] == [r.position for r in log[:5]]
    assert first["next"] == f"/cloud/v1/events?since={log[4].position}&limit=5"
    events = all_pages(client, "/cloud/v1/events?limit=7")
    assert [e["position"] for e in events] == [r.position for r in log]
    assert events[-1]["event"] == log[-1].envelope.event
    assert {"event", "aggregate", "id", "key", "version", "timestamp", "actor",
            "data"} <= set(events[0])
    tail = client.get(f"/cloud/v1/events?since={log[-1].position}").json()
    assert tail["events"] == [] and "next" not in tail


def test_members_see_only_their_projects_events(client):
    client, store = client
    events = all_pages(client, "/cloud/v1/events?limit=3", member("p1"))
    servers = {e["id"] for e in events if e["aggregate"] == "instance"}
    assert len(servers) == 2
    assert all(e["data"]["project_id"] == "p1" for e in events
               if e["event"] == "InstanceRequested")
    assert {e["aggregate"] for e in events} <= {"instance", "project_usage", "quota_set"}
    assert all(e["key"] == "p1" for e in events if e["aggregate"] != "instance")
    other = all_pages(client, "/cloud/v1/events", member("p3"))
    assert other == []


@pytest.mark.parametrize("query", ["since=x", "limit=0", "since=-1"])
def test_bad_paging_parameters_are_400(client, query):
    client, _ = client
    response = client.get(f"/cloud/v1/events?{query}")
    assert response.status_code == 400, response.text
    assert response.json()["badRequest"]["code"] == 400


def test_the_live_stream_sends_a_projects_events_as_sse(client):
    client, store = client
    with client.stream("GET", "/cloud/v1/events/stream?since=0&limit=2",
                       headers=member("p2")) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        text = "".join(response.iter_text())
    blocks = [b for b in text.split("\r\n\r\n") if b.strip()] or \
        [b for b in text.split("\n\n") if b.strip()]
    assert len(blocks) == 2
    fields = [dict(line.split(": ", 1) for line in block.splitlines() if ": " in line)
              for block in blocks]
    docs = [json.loads(f["data"]) for f in fields]
    assert docs[0]["event"] == "InstanceRequested" and docs[0]["data"]["project_id"] == "p2"
    positions = {r.position for r in store.read(0, 100_000)}
    assert all(int(f["id"]) in positions for f in fields)
    assert [f["event"] for f in fields] == [d["event"] for d in docs]


def test_the_stream_follows_the_log_live_from_now(client):
    import threading
    client, _ = client
    received: list[str] = []

    def listen() -> None:
        with client.stream("GET", "/cloud/v1/events/stream?limit=1") as response:
            received.append("".join(response.iter_text()))

    listener = threading.Thread(target=listen, daemon=True)
    listener.start()
    listener.join(timeout=1.5)  # subscribed at the head: nothing old arrives
    assert received == []
    body = {"server": {"name": "live", "imageRef": catalog.DEFAULT_IMAGE_ID, "flavorRef": "1"}}
    assert client.post(f"{API}/servers", json=body).status_code == 202
    listener.join(timeout=20)
    assert len(received) == 1 and "event: InstanceRequested" in received[0]
    assert '"name":"live"' in received[0]
