"""`cloud audit as-of … cloud` from snapshots: the same answer as a replay from the start
of the log, with fewer events folded; snapshots of other fold code are never used."""

import psycopg
from psycopg import sql

from cloud import audit_snapshots as snapshots
from cloud.adapters.eventstore import EventStore
from cloud.audit_as_of import cloud_at

from .history import make_history
from .test_history import audit, positions_of


def without_replay_note(summary: dict) -> dict:
    return {key: value for key, value in summary.items() if key != "replayed"}


def test_as_of_from_a_snapshot_matches_a_replay_from_the_start(database_url):
    make_history(database_url)
    records = positions_of(database_url)
    middle, last = records[len(records) // 2].position, records[-1].position
    from_start = {at: cloud_at(database_url, at, keep_after=10**9)
                  for at in (middle - 1, middle, last)}
    assert all(s["replayed"]["from_snapshot"] is None for s in from_start.values())

    assert "snapshot at log position" in audit(database_url, "snapshot", str(middle))
    with psycopg.connect(database_url) as conn:
        assert [at for at, _ in snapshots.listed(conn)] == [middle]

    after = cloud_at(database_url, last, keep_after=10**9)
    assert after["replayed"] == {"from_snapshot": middle,
                                 "events_folded": len(records) - len(records) // 2 - 1}
    assert without_replay_note(after) == without_replay_note(from_start[last])
    at_it = cloud_at(database_url, middle, keep_after=10**9)
    assert at_it["replayed"] == {"from_snapshot": middle, "events_folded": 0}
    assert without_replay_note(at_it) == without_replay_note(from_start[middle])
    # A moment before the snapshot cannot use it.
    before = cloud_at(database_url, middle - 1, keep_after=10**9)
    assert before["replayed"]["from_snapshot"] is None
    assert without_replay_note(before) == without_replay_note(from_start[middle - 1])


def test_as_of_keeps_its_work_and_snapshots_are_pruned(database_url):
    make_history(database_url)
    records = positions_of(database_url)
    last = records[-1].position
    first = cloud_at(database_url, last, keep_after=1)
    assert first["replayed"]["from_snapshot"] is None
    second = cloud_at(database_url, last, keep_after=1)
    assert second["replayed"] == {"from_snapshot": last, "events_folded": 0}
    assert without_replay_note(second) == without_replay_note(first)

    for record in records[:12]:
        snapshots.take(database_url, record.position)
    with psycopg.connect(database_url, autocommit=True) as conn:
        kept = [at for at, _ in snapshots.listed(conn)]
        assert len(kept) == snapshots.KEEP and kept[-1] == last
        assert snapshots.prune(conn, keep_count=2) and len(snapshots.listed(conn)) == 2


def test_a_snapshot_of_other_fold_code_is_ignored_and_dropped(database_url):
    make_history(database_url)
    store = EventStore(database_url)
    head = store.head()
    store.close()
    position, name = snapshots.take(database_url)
    assert position == head and name == snapshots.name_at(head)
    with psycopg.connect(database_url, autocommit=True) as conn:
        # Tamper: the snapshot claims to have no servers at all, and older code.
        conn.execute(sql.SQL("DELETE FROM {}").format(sql.Identifier(name, "servers")))
        conn.execute(sql.SQL("UPDATE {} SET fingerprint = 'older-code'").format(
            sql.Identifier(name, "snapshot_info")))
        assert snapshots.nearest(conn, head) is None
    summary = cloud_at(database_url, head, keep_after=10**9)
    assert summary["replayed"]["from_snapshot"] is None
    assert summary["servers"] == {"active": 2, "deleted": 2}
    with psycopg.connect(database_url, autocommit=True) as conn:
        assert snapshots.prune(conn) == [name]
