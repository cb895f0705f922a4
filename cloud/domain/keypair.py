"""The Keypair aggregate: one per user and name, so a name is unique per user.

The stream id is derived from (user, name) (``ids.keypair_stream``): two requests for the
same name meet on the same stream, and optimistic concurrency lets only one win.
"""

import msgspec

from cloud.domain.errors import KeypairExists, KeypairNotFound, QuotaExceeded
from cloud.domain.events import Event, KeypairCreated, KeypairDeleted
from cloud.domain.quota import UNLIMITED

SSH, X509 = "ssh", "x509"
KEY_TYPES = (SSH, X509)


class Keypair(msgspec.Struct, frozen=True, kw_only=True):
    user_id: str
    name: str
    key_type: str
    public_key: str
    fingerprint: str


def create(existing: Keypair | None, *, user_id: str, name: str, key_type: str,
           public_key: str, fingerprint: str) -> list[Event]:
    """Record a new key pair; refused when the user has one by that name."""
    if existing is not None:
        raise KeypairExists(name)
    return [KeypairCreated(user_id=user_id, name=name, key_type=key_type,
                           public_key=public_key, fingerprint=fingerprint)]


def check_quota(*, in_use: int, limit: int) -> None:
    """Nova counts a user's key pairs against the ``key_pairs`` limit of the project."""
    if limit != UNLIMITED and in_use + 1 > limit:
        raise QuotaExceeded("Quota exceeded, too many key pairs.")


def delete(existing: Keypair | None, *, user_id: str, name: str) -> list[Event]:
    """Forget a key pair; refused when there is none by that name."""
    if existing is None:
        raise KeypairNotFound(user_id, name)
    return [KeypairDeleted(user_id=user_id, name=name)]


def evolve(keypair: Keypair | None, event: Event) -> Keypair | None:
    """Apply one recorded event (a deleted key pair is ``None``: the name is free)."""
    match event:
        case KeypairCreated():
            return Keypair(user_id=event.user_id, name=event.name, key_type=event.key_type,
                           public_key=event.public_key, fingerprint=event.fingerprint)
        case KeypairDeleted():
            return None
    return keypair
