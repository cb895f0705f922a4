"""The Keypair aggregate: given events, when a decision, then events (or a refusal)."""

import pytest

from cloud.domain import ids, keypair
from cloud.domain.errors import KeypairExists, KeypairNotFound, NotFound, QuotaExceeded
from cloud.domain.events import KeypairCreated, KeypairDeleted

CREATED = KeypairCreated(user_id="u1", name="k1", key_type="ssh", public_key="ssh-rsa AAA",
                         fingerprint="aa:bb")


def given(*events):
    state = None
    for event in events:
        state = keypair.evolve(state, event)
    return state


def create(state, **changes):
    fields = {"user_id": "u1", "name": "k1", "key_type": "ssh", "public_key": "ssh-rsa AAA",
              "fingerprint": "aa:bb", **changes}
    return keypair.create(state, **fields)


def test_a_new_name_is_created():
    assert create(given()) == [CREATED]
    assert given(CREATED) == keypair.Keypair(user_id="u1", name="k1", key_type="ssh",
                                             public_key="ssh-rsa AAA", fingerprint="aa:bb")


def test_a_taken_name_is_refused_with_novas_message():
    with pytest.raises(KeypairExists, match=r"^Key pair 'k1' already exists\.$"):
        create(given(CREATED))


def test_a_deleted_name_is_free_again():
    deleted = KeypairDeleted(user_id="u1", name="k1")
    assert given(CREATED, deleted) is None
    assert create(given(CREATED, deleted), public_key="ssh-rsa BBB") == [
        KeypairCreated(user_id="u1", name="k1", key_type="ssh", public_key="ssh-rsa BBB",
                       fingerprint="aa:bb")]


def test_delete_needs_a_key_pair():
    assert keypair.delete(given(CREATED), user_id="u1", name="k1") == [
        KeypairDeleted(user_id="u1", name="k1")]
    with pytest.raises(KeypairNotFound) as missing:
        keypair.delete(given(), user_id="u1", name="k1")
    assert str(missing.value) == "Keypair k1 not found for user u1"
    assert isinstance(missing.value, NotFound)


@pytest.mark.parametrize("in_use, limit, allowed", [
    (0, 1, True), (1, 1, False), (99, 100, True), (100, 100, False), (10**6, -1, True),
    (0, 0, False),
])
def test_key_pair_quota(in_use, limit, allowed):
    if allowed:
        keypair.check_quota(in_use=in_use, limit=limit)
    else:
        with pytest.raises(QuotaExceeded, match=r"^Quota exceeded, too many key pairs\.$"):
            keypair.check_quota(in_use=in_use, limit=limit)


def test_streams_are_per_user_and_name():
    assert ids.keypair_stream("u1", "k1") == ids.keypair_stream("u1", "k1")
    assert ids.keypair_stream("u1", "k1") != ids.keypair_stream("u2", "k1")
    assert ids.keypair_stream("u1", "k1") != ids.keypair_stream("u1", "k2")
