"""Read model for key pairs: tables (DDL) and how each event changes them (FOLDS).

Nova shows a key pair's integer ``id``. Ours is its rank in creation order: the fold takes
the next number after the largest ever given, and deleted rows stay (with
``deleted_at``) so numbers are never reused and a replay gives every key pair its id again.
"""

from psycopg import Cursor

from cloud.domain import events as ev
from cloud.domain.envelope import Envelope
from cloud.projections.folds import Fold

DDL = """
CREATE TABLE IF NOT EXISTS keypairs (
    id bigint PRIMARY KEY,
    user_id text NOT NULL,
    name text NOT NULL,
    key_type text NOT NULL,
    public_key text NOT NULL,
    fingerprint text NOT NULL,
    created_at timestamptz NOT NULL,
    deleted_at timestamptz
);
CREATE UNIQUE INDEX IF NOT EXISTS keypairs_live ON keypairs (user_id, name)
    WHERE deleted_at IS NULL;
"""


def keypair_created(cur: Cursor, env: Envelope) -> None:
    """A row numbered after the largest number ever given."""
    e: ev.KeypairCreated = env.data  # type: ignore[assignment]
    cur.execute(
        "INSERT INTO keypairs SELECT coalesce(max(id), 0) + 1, %s, %s, %s, %s, %s, %s, NULL"
        " FROM keypairs ON CONFLICT (user_id, name) WHERE deleted_at IS NULL DO NOTHING",
        (e.user_id, e.name, e.key_type, e.public_key, e.fingerprint, env.timestamp))


def keypair_deleted(cur: Cursor, env: Envelope) -> None:
    """The row stays, marked deleted, so that its number is not given again."""
    e: ev.KeypairDeleted = env.data  # type: ignore[assignment]
    cur.execute("UPDATE keypairs SET deleted_at = %s WHERE user_id = %s AND name = %s"
                " AND deleted_at IS NULL", (env.timestamp, e.user_id, e.name))


FOLDS: dict[str, Fold] = {
    "KeypairCreated": keypair_created,
    "KeypairDeleted": keypair_deleted,
}
