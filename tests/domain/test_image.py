"""Image decisions, given past events, when a command, then new events."""

import msgspec
import pytest

from cloud.domain import image
from cloud.domain.errors import Invalid, NotFound
from cloud.domain.events import (
    ImageCreated,
    ImageDataUploaded,
    ImageDeleted,
    ImageRegistered,
    ImageUpdated,
)
from cloud.domain.image import Caller, Digest, PatchOperation

ID = "5a2b1c3d-1111-4a1a-9a1a-000000000001"
OWNER = Caller(project_id="p1")
OTHER = Caller(project_id="p2")
ADMIN = Caller(project_id="ops", is_admin=True)
READER = Caller(project_id="p1", can_write=False)
DIGEST = Digest(size=3, checksum="c" * 32, os_hash_value="d" * 128)


def given(*events):
    state = None
    for event in events:
        state = image.evolve(state, ID, event)
    return state


def created(**attributes):
    return image.create(None, ID, attributes=attributes, caller=OWNER)[0]


def replace(attribute, value):
    return PatchOperation(op="replace", attribute=attribute, value=value)


def test_create_records_a_queued_shared_image_of_the_callers_project():
    event = created(name="cirros", tags=["a", "b", "a"], os_distro="cirros")
    assert event == ImageCreated(name="cirros", owner="p1", visibility="shared",
                                 tags=["a", "b"], properties={"os_distro": "cirros"})
    state = given(event)
    assert (state.status, state.size, state.checksum) == ("queued", None, None)


@pytest.mark.parametrize("attributes, error", [
    ({"visibility": "public"}, image.ImageForbidden),
    ({"owner": "p2"}, image.ImageForbidden),
    ({"status": "active"}, image.ImageForbidden),
    ({"os_glance_import": "x"}, image.ImageForbidden),
    ({"min_ram": True}, Invalid),
    ({"container_format": "zip"}, Invalid),
    ({"extra": ["not", "a", "string"]}, Invalid),
])
def test_create_refuses(attributes, error):
    with pytest.raises(error):
        image.create(None, ID, attributes=attributes, caller=OWNER)


def test_admins_publicize_and_readers_create_nothing():
    event = image.create(None, ID, attributes={"visibility": "public"}, caller=ADMIN)[0]
    assert event.visibility == "public" and event.owner == "ops"
    with pytest.raises(image.ImageForbidden):
        image.create(None, ID, attributes={}, caller=READER)
    with pytest.raises(image.ImageConflict):
        image.create(given(created()), ID, attributes={}, caller=OWNER)


def test_upload_activates_once():
    state = given(created())
    event = image.upload(state, caller=OWNER, digest=DIGEST)[0]
    assert event == ImageDataUploaded(size=3, checksum="c" * 32, os_hash_algo="sha512",
                                      os_hash_value="d" * 128)
    active = given(created(), event)
    assert (active.status, active.size) == ("active", 3)
    with pytest.raises(image.ImageConflict):
        image.upload(active, caller=OWNER, digest=DIGEST)


def test_update_records_only_what_changed():
    state = given(created(name="a", keep="1", drop="2"))
    events = image.update(state, caller=OWNER, operations=[
        replace("name", "b"), replace("keep", "1"), replace("min_disk", 0),
        PatchOperation(op="remove", attribute="drop"),
        PatchOperation(op="add", attribute="new", value="3")])
    assert events == [ImageUpdated(name="b", properties={"new": "3"},
                                   removed_properties=["drop"])]
    assert msgspec.json.decode(msgspec.json.encode(events[0])) == {
        "name": "b", "properties": {"new": "3"}, "removed_properties": ["drop"]}
    after = given(created(name="a", keep="1", drop="2"), *events)
    assert after.name == "b" and after.properties == {"keep": "1", "new": "3"}
    assert image.update(after, caller=OWNER, operations=[replace("name", "b")]) == []


def test_formats_change_only_while_queued():
    active = given(created(), image.upload(given(created()), caller=OWNER, digest=DIGEST)[0])
    with pytest.raises(image.ImageForbidden):
        image.update(active, caller=OWNER, operations=[replace("disk_format", "raw")])
    assert image.update(given(created()), caller=OWNER,
                        operations=[replace("disk_format", "raw")])


def test_others_may_not_change_what_they_see():
    public = given(image.create(None, ID, attributes={"visibility": "public"},
                                caller=ADMIN)[0])
    assert image.found(public, ID, OTHER) is public
    with pytest.raises(image.ImageForbidden):
        image.update(public, caller=OTHER, operations=[replace("name", "mine")])
    with pytest.raises(image.ImageForbidden):
        image.delete(public, caller=OTHER)


def test_private_images_are_hidden_from_other_projects():
    private = given(created(visibility="private"))
    with pytest.raises(image.ImageNotFound):
        image.found(private, ID, OTHER)
    assert image.found(private, ID, ADMIN) is private
    assert image.is_visible(owner="p2", visibility="community", caller=OWNER)


def test_protected_images_stay_and_deleted_ones_are_gone():
    protected = given(created(protected=True))
    with pytest.raises(image.ImageForbidden):
        image.delete(protected, caller=OWNER)
    gone = given(created(), ImageDeleted())
    with pytest.raises(image.ImageNotFound):
        image.found(gone, ID, ADMIN)


def test_tags_one_by_one():
    state = given(created(tags=["a"]))
    assert image.tag(state, name="a", caller=OWNER) == []
    assert image.tag(state, name="b", caller=OWNER) == [ImageUpdated(tags=["a", "b"])]
    assert image.untag(state, name="a", caller=OWNER) == [ImageUpdated(tags=[])]
    with pytest.raises(NotFound):
        image.untag(state, name="b", caller=OWNER)


def test_a_registered_image_replays_as_public_active_and_empty():
    state = given(ImageRegistered(image_id=ID, name="cloud-test-image"))
    assert (state.status, state.visibility, state.size, state.owner) == (
        "active", "public", 0, None)
    assert image.found(state, ID, OTHER) is state
