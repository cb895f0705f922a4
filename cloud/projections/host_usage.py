"""What the claims on a host add up to (``hosts`` usage columns and ``host_claims``).

Usage is kept incrementally: each claim or release changes its host's sums by that
claim alone, never by re-summing the host's claims. Claims and releases fold set-wise
(see setwise.py): any number of them, on any hosts, in one statement, as long as no two
are for the same instance on the same host. Every part of the statement reads
``host_claims`` as it was before the statement, which is what tells whether an instance
is new to its host (``running_vms`` counts instances; a resize keeps two claims for one).

A claim that comes and goes within one run of set-wise events (``Passing``: an instance
with no claim anywhere before, claimed then released of the same kind on one host, and
nothing else of it on that host in the run) changes no row of ``host_claims`` and no
sum: only its host's ``updated_at`` and ``changed_at``, as of the release. Its claim is
not folded at all and its release only touches its host; and of the releases of such
claims on one host in the run, only the last in the log does that much. (Each usage
event of a host lands in the same wave as the ones before it on that host or a later
one, and sets the host's time to its own: what the host is left with is the time of
its last, which a touch no later than another passing release's cannot be.) Most
claims of a replayed churning cloud are such (docs/benchmarks.md, sessions 9 and 10).
"""

import contextvars
from collections.abc import Callable

from psycopg import Cursor

from cloud.adapters.eventstore import Recorded
from cloud.domain import events as ev
from cloud.domain.envelope import Envelope
from cloud.projections.setwise import Access, Folded, SetFold, transposed, unnest

_USAGE = (
    "WITH p AS (SELECT * FROM " + unnest(
        claim="boolean", host="text", instance="uuid", kind="text", vcpus="int",
        memory="int", disk="int", at="timestamptz", position="bigint") + "),"
    # A claim replaces the instance's claim of its kind on that host.
    " put AS (INSERT INTO host_claims SELECT host, instance, vcpus, memory, disk, kind"
    "  FROM p WHERE claim ON CONFLICT (host, instance_id, kind) DO UPDATE"
    "  SET vcpus = EXCLUDED.vcpus, memory_mb = EXCLUDED.memory_mb,"
    "  disk_gb = EXCLUDED.disk_gb),"
    # A release removes it; releasing what was never claimed changes nothing.
    " gone AS (DELETE FROM host_claims c USING p WHERE NOT p.claim AND c.host = p.host"
    "  AND c.instance_id = p.instance AND c.kind = p.kind"
    "  RETURNING c.host, c.instance_id, c.kind, c.vcpus, c.memory_mb, c.disk_gb,"
    "  p.at, p.position),"
    " change AS ("
    "  SELECT p.host, p.vcpus - coalesce(o.vcpus, 0) AS vcpus,"
    "  p.memory - coalesce(o.memory_mb, 0) AS memory, p.disk - coalesce(o.disk_gb, 0) AS disk,"
    "  (NOT EXISTS (SELECT 1 FROM host_claims c WHERE c.host = p.host"
    "   AND c.instance_id = p.instance))::int AS vms, p.at, p.position"
    "  FROM p LEFT JOIN host_claims o ON o.host = p.host AND o.instance_id = p.instance"
    "  AND o.kind = p.kind WHERE p.claim"
    "  UNION ALL"
    "  SELECT g.host, -g.vcpus, -g.memory_mb, -g.disk_gb,"
    "  -(NOT EXISTS (SELECT 1 FROM host_claims c WHERE c.host = g.host"
    "   AND c.instance_id = g.instance_id AND c.kind <> g.kind))::int, g.at, g.position"
    "  FROM gone g"
    # A release of a passing claim: its host's time, nothing else (see Passing).
    "  UNION ALL"
    "  SELECT p.host, 0, 0, 0, 0, p.at, p.position FROM p WHERE p.claim IS NULL)"
    # Per host: the sum of the changes, and the time of the latest in the log.
    " UPDATE hosts h SET vcpus_used = h.vcpus_used + d.vcpus,"
    " memory_mb_used = h.memory_mb_used + d.memory, disk_gb_used = h.disk_gb_used + d.disk,"
    " running_vms = h.running_vms + d.vms, updated_at = d.at,"
    " changed_at = greatest(h.changed_at, d.position)"
    " FROM (SELECT host, sum(vcpus) AS vcpus, sum(memory) AS memory, sum(disk) AS disk,"
    "  sum(vms) AS vms, (array_agg(at ORDER BY position DESC))[1] AS at,"
    "  max(position) AS position FROM change GROUP BY host) d"
    " WHERE h.name = d.host")


# The positions of the releases that end passing claims, in the run being folded.
touching_only: contextvars.ContextVar[frozenset[int]] = contextvars.ContextVar(
    "touching_only", default=frozenset())


def _row(f: Folded) -> tuple:
    e = f.env.data
    if f.position in touching_only.get():
        return (None, e.host, e.instance_id, e.kind, 0, 0, 0, f.env.timestamp, f.position)
    if isinstance(e, ev.ResourcesClaimed):
        return (True, e.host, e.instance_id, e.kind, e.vcpus, e.memory_mb, e.disk_gb,
                f.env.timestamp, f.position)
    e: ev.ResourcesReleased = f.env.data  # type: ignore[no-redef]
    return (False, e.host, e.instance_id, e.kind, 0, 0, 0, f.env.timestamp, f.position)


def _fold(cur: Cursor, events: list[Folded]) -> None:
    cur.execute(_USAGE, transposed(map(_row, events)))


def _touches(env: Envelope) -> list[Access]:
    """One instance's claims on one host, in order; the host's sums, combined."""
    e = env.data
    return [Access(("claim", e.host, e.instance_id)),  # type: ignore[attr-defined]
            Access(("usage", e.host), "usage")]  # type: ignore[attr-defined]


usage = SetFold(_fold, _touches)
SETWISE: dict[str, SetFold] = {"ResourcesClaimed": usage, "ResourcesReleased": usage}


CLAIMED, RELEASED = "ResourcesClaimed", "ResourcesReleased"


class Passing:
    """The claims of a run that come and go within it (see the module's docstring).

    ``claimed``: in canonical form, every instance that may have a claim before the
    run (those with one when the fold began, and every one claimed since), kept by a
    caller that alone folds into these tables; it learns the instances claimed in the
    run. Without it (None) no claim passes."""

    def __init__(self, run: list[Recorded], claimed: set[str] | None) -> None:
        self.claims: set[int] = set()
        self.releases: frozenset[int] = frozenset()
        self.quiet: set[int] = set()
        if claimed is None:
            return
        lives: dict[tuple[str, str], list[Recorded]] = {}
        for record in run:
            if record.envelope.event in (CLAIMED, RELEASED):
                e = record.envelope.data
                lives.setdefault((e.host, e.instance_id.lower()),  # type: ignore[attr-defined]
                                 []).append(record)
        # host -> the position of its last release of a passing claim in the run
        last: dict[str, int] = {}
        for (host, instance), records in lives.items():
            if (len(records) == 2 and instance not in claimed
                    and records[0].envelope.event == CLAIMED
                    and records[1].envelope.event == RELEASED
                    and records[0].envelope.data.kind  # type: ignore[attr-defined]
                    == records[1].envelope.data.kind):  # type: ignore[attr-defined]
                self.claims.add(records[0].position)
                release = records[1].position
                if release > last.get(host, 0):
                    if host in last:
                        self.quiet.add(last[host])
                    last[host] = release
                else:
                    self.quiet.add(release)
        self.releases = frozenset(last.values())
        claimed.update(instance for (_, instance), records in lives.items()
                       if any(r.envelope.event == CLAIMED for r in records))

    def fold_of(self, fold_of: Callable[[Recorded], SetFold | None]
                ) -> Callable[[Recorded], SetFold | None]:
        """``fold_of`` for the run, but no fold for a passing claim, nor for a release
        of one whose host a later such release touches."""
        if not self.claims:
            return fold_of
        skipped = self.claims | self.quiet
        return lambda record: None if record.position in skipped else fold_of(record)
