"""Signed, expiring tokens: ``base64url(JSON payload) "." base64url(HMAC-SHA256)``.

The signing key lives in the database (created once at db-sync) so every API process
signs and checks with the same key; a revoked token's ``audit_id`` is kept until the
token would have expired anyway. Whether the user, project and roles in a token still
hold is checked by the caller (``cloud.services.auth``): this module only knows tokens.
"""

import base64
import binascii
import datetime as dt
import hashlib
import hmac
import secrets

import msgspec
from psycopg_pool import ConnectionPool

DDL = """
CREATE TABLE IF NOT EXISTS token_signing_key (
    id int PRIMARY KEY CHECK (id = 1),
    key bytea NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE IF NOT EXISTS revoked_tokens (
    audit_id text PRIMARY KEY,
    expires_at timestamptz NOT NULL,
    revoked_at timestamptz NOT NULL
);
"""

DEFAULT_LIFETIME = dt.timedelta(hours=1)


class InvalidToken(Exception):
    """The token is malformed, forged, expired or revoked (the message says which)."""


class TokenPayload(msgspec.Struct, frozen=True, kw_only=True):
    """What a token says: who, scoped to which project, with which roles, until when."""

    user_id: str
    project_id: str
    roles: list[str]
    methods: list[str]
    issued_at: str
    expires_at: str
    audit_id: str

    def expires(self) -> dt.datetime:
        return dt.datetime.fromisoformat(self.expires_at)


_encoder = msgspec.json.Encoder()
_decoder = msgspec.json.Decoder(TokenPayload)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def sign(payload: TokenPayload, key: bytes) -> str:
    """The token string for a payload."""
    body = _encoder.encode(payload)
    mac = hmac.new(key, body, hashlib.sha256).digest()
    return f"{_b64(body)}.{_b64(mac)}"


def unsign(token: str, key: bytes) -> TokenPayload:
    """The payload of a token whose signature is good; raises InvalidToken otherwise."""
    try:
        body_part, mac_part = token.split(".")
        body, mac = _unb64(body_part), _unb64(mac_part)
    except (ValueError, binascii.Error):
        raise InvalidToken("The token is malformed.") from None
    if not hmac.compare_digest(mac, hmac.new(key, body, hashlib.sha256).digest()):
        raise InvalidToken("The token's signature is not valid.")
    try:
        return _decoder.decode(body)
    except msgspec.DecodeError:
        raise InvalidToken("The token is malformed.") from None


def ensure_key(conn) -> None:
    """Create the signing key once (several db-syncs may race: the first one wins)."""
    conn.execute("INSERT INTO token_signing_key (id, key) VALUES (1, %s)"
                 " ON CONFLICT (id) DO NOTHING", (secrets.token_bytes(32),))


def _column(row, name: str):
    return row[name] if isinstance(row, dict) else row[0]


class Tokens:
    """Issues, checks and revokes tokens, with the key and revocations in PostgreSQL."""

    def __init__(self, pool: ConnectionPool, *,
                 lifetime: dt.timedelta = DEFAULT_LIFETIME) -> None:
        self.pool, self.lifetime = pool, lifetime
        self._key: bytes | None = None

    def key(self) -> bytes:
        """The shared signing key (read once per process)."""
        if self._key is None:
            with self.pool.connection() as conn:
                row = conn.execute("SELECT key FROM token_signing_key WHERE id = 1").fetchone()
            if row is None:
                raise RuntimeError("no token signing key: run `cloud manage db-sync`")
            self._key = bytes(_column(row, "key"))
        return self._key

    def issue(self, *, user_id: str, project_id: str, roles: list[str], methods: list[str],
              now: dt.datetime, lifetime: dt.timedelta | None = None) -> tuple[str, TokenPayload]:
        """A new token and what it says; ``lifetime`` overrides the default."""
        expires = now + (self.lifetime if lifetime is None else lifetime)
        payload = TokenPayload(
            user_id=user_id, project_id=project_id, roles=sorted(roles), methods=methods,
            issued_at=now.isoformat(), expires_at=expires.isoformat(),
            audit_id=_b64(secrets.token_bytes(16)))
        return sign(payload, self.key()), payload

    def verify(self, token: str, *, now: dt.datetime) -> TokenPayload:
        """The payload of a well-signed, unexpired, unrevoked token; else InvalidToken."""
        payload = unsign(token, self.key())
        if payload.expires() <= now:
            raise InvalidToken("The token has expired.")
        with self.pool.connection() as conn:
            revoked = conn.execute("SELECT 1 FROM revoked_tokens WHERE audit_id = %s",
                                   (payload.audit_id,)).fetchone()
        if revoked is not None:
            raise InvalidToken("The token has been revoked.")
        return payload

    def revoke(self, payload: TokenPayload, *, now: dt.datetime) -> None:
        """Revoke a token; revocations of tokens expired by now are pruned."""
        with self.pool.connection() as conn:
            conn.execute("INSERT INTO revoked_tokens VALUES (%s, %s, %s)"
                         " ON CONFLICT (audit_id) DO NOTHING",
                         (payload.audit_id, payload.expires(), now))
            conn.execute("DELETE FROM revoked_tokens WHERE expires_at < %s", (now,))
