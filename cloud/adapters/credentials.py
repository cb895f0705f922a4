"""Password hashes (argon2id), one row per user.

This table is deliberately not an event projection: secrets are not history. The log
records only *that* a password changed (``UserPasswordChanged``); the hash lives here,
is overwritten on change, is never logged and never leaves this module except as a
yes/no answer to ``verify``.
"""

import datetime as dt

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from psycopg_pool import ConnectionPool

DDL = """
CREATE TABLE IF NOT EXISTS credentials (
    user_id text PRIMARY KEY,
    password_hash text NOT NULL,
    updated_at timestamptz NOT NULL
);
"""

_hasher = PasswordHasher()


class Credentials:
    """Stores and checks password hashes through a connection pool."""

    def __init__(self, pool: ConnectionPool) -> None:
        self.pool = pool

    def set_password(self, user_id: str, password: str, *, now: dt.datetime) -> None:
        """Hash and store a user's password, replacing the previous one."""
        hashed = _hasher.hash(password)
        with self.pool.connection() as conn:
            conn.execute(
                "INSERT INTO credentials VALUES (%s, %s, %s) ON CONFLICT (user_id)"
                " DO UPDATE SET password_hash = EXCLUDED.password_hash,"
                " updated_at = EXCLUDED.updated_at", (user_id, hashed, now))

    def verify(self, user_id: str, password: str) -> bool:
        """Whether the password is the user's (False when the user has none)."""
        with self.pool.connection() as conn:
            row = conn.execute("SELECT password_hash FROM credentials WHERE user_id = %s",
                               (user_id,)).fetchone()
        if row is None:
            _hasher.hash(password)  # same cost either way: no user-existence oracle
            return False
        stored = row["password_hash"] if isinstance(row, dict) else row[0]
        try:
            return _hasher.verify(stored, password)
        except (VerificationError, InvalidHashError):
            return False

    def forget(self, user_id: str) -> None:
        """Drop a deleted user's password."""
        with self.pool.connection() as conn:
            conn.execute("DELETE FROM credentials WHERE user_id = %s", (user_id,))
