"""The Flavor aggregate, given / when / then: decisions and how events fold."""

import pytest

from cloud.domain import events as ev
from cloud.domain import flavor
from cloud.domain.errors import Duplicate, Invalid, NotFound
from cloud.domain.events import FlavorSpec
from cloud.domain.identity import NameIndex, evolve_index

SPEC = FlavorSpec(flavorid="f1", name="small", vcpus=1, ram=512, disk=1)


def given(*events):
    state = None
    for event in events:
        state = flavor.evolve(state, event)
    return state


CREATED = ev.FlavorCreated(flavor=SPEC, is_public=False)


def test_create_records_the_flavor_without_extra_specs():
    spec = FlavorSpec(flavorid="f1", name="small", vcpus=1, ram=512, disk=1,
                      extra_specs={"k": "v"})
    (created,) = flavor.create(None, spec, rxtx_factor=2.0)
    assert created.flavor == SPEC and created.rxtx_factor == 2.0
    assert given(created).spec == SPEC


@pytest.mark.parametrize("changes", [{"vcpus": 0}, {"ram": 0}, {"disk": -1}, {"swap": -1}])
def test_create_refuses_impossible_sizes(changes):
    fields = {"flavorid": "f1", "name": "n", "vcpus": 1, "ram": 1, "disk": 0, **changes}
    with pytest.raises(Invalid):
        flavor.create(None, FlavorSpec(**fields))


def test_an_id_is_taken_until_the_flavor_is_deleted():
    with pytest.raises(Duplicate, match="Flavor with ID f1 already exists."):
        flavor.create(given(CREATED), SPEC)
    deleted = given(CREATED, *flavor.delete(given(CREATED), "f1"))
    assert deleted.deleted
    again = given(CREATED, ev.FlavorDeleted(flavorid="f1"), *flavor.create(deleted, SPEC))
    assert not again.deleted and again.projects == ()


def test_a_deleted_or_unknown_flavor_refuses_changes():
    for state in (None, given(CREATED, ev.FlavorDeleted(flavorid="f1"))):
        with pytest.raises(NotFound, match="Flavor f1 could not be found."):
            flavor.set_extra_specs(state, "f1", {"k": "v"})


def test_extra_specs_record_only_what_changes():
    state = given(CREATED, *flavor.set_extra_specs(given(CREATED), "f1", {"a": "1", "b": "2"}))
    assert state.extra_specs == {"a": "1", "b": "2"}
    assert flavor.set_extra_specs(state, "f1", {"a": "1"}) == []
    (changed,) = flavor.set_extra_specs(state, "f1", {"a": "1", "b": "3"})
    assert changed.extra_specs == {"b": "3"}
    state = flavor.evolve(state, ev.FlavorExtraSpecDeleted(flavorid="f1", key="a"))
    assert state.extra_specs == {"b": "2"}
    with pytest.raises(NotFound, match="Flavor f1 has no extra specs with key a."):
        flavor.delete_extra_spec(state, "f1", "a")


def test_access_is_added_once_and_removed_once():
    state = given(CREATED, ev.FlavorAccessAdded(flavorid="f1", project_id="p"))
    with pytest.raises(Duplicate, match="already exists for flavor f1 and project p"):
        flavor.add_access(state, "f1", "p", refuse_public=True)
    state = flavor.evolve(state, ev.FlavorAccessRemoved(flavorid="f1", project_id="p"))
    with pytest.raises(NotFound, match="Flavor access not found for f1 / p combination."):
        flavor.remove_access(state, "f1", "p")


def test_a_public_flavor_refuses_access_only_when_asked_to():
    public = given(ev.FlavorCreated(flavor=SPEC))
    with pytest.raises(Duplicate, match="Can not add access to a public flavor."):
        flavor.add_access(public, "f1", "p", refuse_public=True)
    assert flavor.add_access(public, "f1", "p", refuse_public=False)


def test_a_name_is_held_by_one_flavor_until_released():
    (claimed,) = flavor.claim_name(NameIndex(), "small", "f1")
    index = evolve_index(None, claimed)
    assert flavor.claim_name(index, "small", "f1") == []
    with pytest.raises(Duplicate, match="Flavor with name small already exists."):
        flavor.claim_name(index, "small", "f2")
    (released,) = flavor.release_name(index, "f1")
    assert flavor.claim_name(evolve_index(index, released), "small", "f2")
