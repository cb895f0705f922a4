"""The request id derived for an action recorded without one is the RFC 4122 version 5
UUID of the event, computed without the uuid module, and must stay exactly that: it is
stored in the read models and shown to users, and a replay must derive the same one."""

import uuid

from cloud.projections.instance_actions import _UNNAMED_REQUESTS, _derived


def test_derived_request_ids_are_uuid5_of_the_event():
    names = [f"{uuid.UUID(int=n * 7919 + 1)}:{n}" for n in range(5000)]
    names += ["", "x", "ünïcode:1", "Server-名前:42"]
    for name in names:
        assert _derived(name) == f"req-{uuid.uuid5(_UNNAMED_REQUESTS, name)}", name


def test_every_variant_nibble_appears():
    # The variant character takes each of 8, 9, a, b over enough names: the masking
    # of its top bits is what is being checked, not one lucky digest.
    variants = {_derived(f"server:{n}")[4 + 19] for n in range(200)}
    assert variants == set("89ab")
