"""Key pair use cases: load, decide, save (the key is generated here when none is given)."""

from typing import NamedTuple

from cloud.adapters.eventstore import Batch, EventStore
from cloud.domain import ids, keypair
from cloud.domain.envelope import Context
from cloud.domain.errors import Conflict
from cloud.domain.keypair import Keypair
from cloud.services import keygen


class Created(NamedTuple):
    """What a create returns: the key pair, its private key if generated, positions."""

    keypair: Keypair
    private_key: str | None
    positions: list[int]


def load_keypair(store: EventStore, user_id: str, name: str) -> tuple[Keypair | None, int]:
    """The user's key pair by that name (None if there is none) and its stream version."""
    state, version = None, 0
    for envelope in store.load(ids.keypair_stream(user_id, name)):
        state, version = keypair.evolve(state, envelope.data), envelope.version
    return state, version


def create(store: EventStore, *, user_id: str, name: str, key_type: str,
           public_key: str | None, context: Context) -> Created:
    """Import ``public_key``, or generate a key pair when it is None. Raises
    KeypairExists when the user has one by that name, Invalid for a bad public key."""
    private_key = None
    if public_key is None:
        private_key, public_key = keygen.generate(key_type, user_id)
    fingerprint = keygen.fingerprint(public_key, key_type)
    stream = ids.keypair_stream(user_id, name)
    for _ in range(2):  # a lost race is decided again: then the name is taken
        existing, version = load_keypair(store, user_id, name)
        events = keypair.create(existing, user_id=user_id, name=name, key_type=key_type,
                                public_key=public_key, fingerprint=fingerprint)
        try:
            positions = store.append(Batch(stream, f"{user_id}:{name}", version, events),
                                     context=context)
        except Conflict:
            continue
        created = keypair.evolve(None, events[0])
        return Created(created, private_key, positions)  # type: ignore[arg-type]
    raise Conflict(f"Key pair '{name}' is being changed by another request.")


def delete(store: EventStore, *, user_id: str, name: str, context: Context) -> list[int]:
    """Forget a user's key pair. Raises KeypairNotFound."""
    existing, version = load_keypair(store, user_id, name)
    events = keypair.delete(existing, user_id=user_id, name=name)
    return store.append(Batch(ids.keypair_stream(user_id, name), f"{user_id}:{name}",
                              version, events), context=context)
