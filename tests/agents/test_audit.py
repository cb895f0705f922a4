"""`cloud audit server` tells a deleted server's whole story from the log."""

import json
import subprocess
import sys
from pathlib import Path

import psycopg

from cloud.adapters.eventstore import EventStore
from cloud.domain.envelope import Actor, Context
from cloud.domain.flavor import DEFAULT_FLAVORS
from cloud.projections import projector
from cloud.services import hosts, instances
from cloud.services.catalog import DEFAULT_IMAGE_ID
from cloud.util import utcnow

REPO = Path(__file__).resolve().parents[2]


def ctx(**actor) -> Context:
    return Context(request_id="req-a1", actor=Actor(**actor), timestamp=utcnow())


def audit(database_url: str, *args: str) -> str:
    return subprocess.run([sys.executable, "-m", "cloud.cli", "--database-url", database_url,
                           "audit", "server", *args], cwd=REPO, check=True,
                          capture_output=True, text=True).stdout


def test_audit_of_a_deleted_server_by_name(database_url):
    store = EventStore(database_url)
    hosts.register(store, "h1", context=ctx(agent="compute:h1"), hypervisor_type="QEMU",
                   hypervisor_hostname="h1", vcpus=4, memory_mb=4096, disk_gb=10)
    server_id, _ = instances.create(store, name="audited", flavor=DEFAULT_FLAVORS[0],
                                    image_ref=DEFAULT_IMAGE_ID,
                                    context=ctx(user_id="alice", project_id="p1"))
    instances.schedule(store, server_id, host_name="h1", context=ctx(agent="scheduler"))
    instances.spawned(store, server_id, host_name="h1", power_state=1,
                      context=ctx(agent="compute:h1"))
    instances.delete(store, server_id, context=ctx(user_id="bob", project_id="p1"))
    instances.deleted(store, server_id, host_name="h1", context=ctx(agent="compute:h1"))
    with psycopg.connect(database_url, autocommit=True) as conn:
        projector.catch_up(store, conn)

    rows = json.loads(audit(database_url, "audited", "--json"))
    assert [r["event"] for r in rows] == ["InstanceRequested", "InstanceScheduled",
                                         "InstanceSpawned", "InstanceDeleteRequested",
                                         "InstanceDeleted"]
    assert rows[0]["actor"] == "user alice (project p1)"
    assert rows[3]["actor"] == "user bob (project p1)"
    assert rows[2]["changes"]["vm_state"] == ["building", "active"]
    assert rows[4]["changes"]["vm_state"] == ["active", "deleted"]
    table = audit(database_url, server_id)
    assert "InstanceSpawned" in table and "vm_state: building → active" in table
    assert "request req-a1" in table
