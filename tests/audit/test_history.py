"""`cloud audit project|user` (who did what, by time) and `cloud audit as-of` (the past,
replayed) on a real history."""

import json
import subprocess
import sys
from pathlib import Path

from cloud.adapters.eventstore import EventStore

from .history import make_history

REPO = Path(__file__).resolve().parents[2]


def audit(database_url: str, *args: str) -> str:
    result = subprocess.run([sys.executable, "-m", "cloud.cli", "--database-url",
                             database_url, "audit", *args], cwd=REPO, capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    return result.stdout


def positions_of(database_url: str) -> list:
    store = EventStore(database_url)
    records = store.read(0, 100_000)
    store.close()
    return records


def test_project_and_user_histories_with_time_windows(database_url):
    ids = make_history(database_url)
    rows = json.loads(audit(database_url, "project", "p2", "--json"))
    assert [r["event"] for r in rows] == [
        "InstanceRequested", "UsageReserved", "InstanceScheduled", "InstanceSpawned",
        "InstanceDeleteRequested", "InstanceDeleted", "UsageReleased"]
    assert {r["key"] for r in rows} == {ids["other"], "p2"}
    assert rows[2]["actor"] == "scheduler" and rows[0]["actor"] == "user carol (project p2)"
    assert rows == sorted(rows, key=lambda r: r["position"])

    bob = json.loads(audit(database_url, "user", "bob", "--json"))
    assert [r["event"] for r in bob] == ["InstanceRequested", "UsageReserved",
                                        "InstanceLocked", "InstanceUnlocked"]
    locked_at = bob[2]["timestamp"]
    since = json.loads(audit(database_url, "user", "bob", "--since", locked_at, "--json"))
    assert [r["event"] for r in since] == ["InstanceLocked", "InstanceUnlocked"]
    until = json.loads(audit(database_url, "user", "bob", "--until", locked_at, "--json"))
    assert [r["event"] for r in until] == ["InstanceRequested", "UsageReserved"]

    table = audit(database_url, "project", "p1")
    assert "InstanceLocked" in table and "user bob (project p1)" in table
    assert ids["web2"] in table and ids["other"] not in table
    assert "no events for user nobody" in audit(database_url, "user", "nobody")


def test_as_of_a_position_and_a_time(database_url):
    ids = make_history(database_url)
    records = positions_of(database_url)
    spawned = next(r for r in records if r.envelope.event == "InstanceSpawned"
                   and r.envelope.id == ids["web2"])
    deleted = next(r for r in records if r.envelope.event == "InstanceDeleted"
                   and r.envelope.id == ids["web2"])

    then = json.loads(audit(database_url, "as-of", str(spawned.position), "server",
                            ids["web2"], "--json"))
    assert then["server"]["vm_state"] == "active" and then["server"]["host"]
    later = json.loads(audit(database_url, "as-of", deleted.envelope.timestamp, "server",
                             ids["web2"], "--json"))
    assert later["server"]["vm_state"] == "deleted"
    before = json.loads(audit(database_url, "as-of", "1", "server", ids["web2"], "--json"))
    assert before["server"] is None

    host = then["server"]["host"]
    claims = json.loads(audit(database_url, "as-of", str(spawned.position), "host", host,
                              "--json"))["host"]["claims"]
    assert ids["web2"] in claims

    cloud = json.loads(audit(database_url, "as-of", str(spawned.position), "--json"))
    assert cloud["position"] == spawned.position
    assert cloud["servers"]["active"] >= 1
    now = json.loads(audit(database_url, "as-of", str(records[-1].position), "cloud",
                           "--json"))
    assert now["servers"] == {"active": 2, "deleted": 2}
    assert sum(h["running_vms"] for h in now["hosts"]) == 2
    text = audit(database_url, "as-of", str(records[-1].position), "cloud")
    assert "the cloud at log position" in text and "active" in text
