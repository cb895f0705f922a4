"""Identity decisions, given / when / then, with no I/O."""

import pytest

from cloud.domain import events as ev
from cloud.domain import identity as idm
from cloud.domain.errors import Conflict, Invalid, NotFound


def fold(evolve, events, state=None):
    for event in events:
        state = evolve(state, event)
    return state


def test_a_claimed_name_is_refused_to_anyone_else_until_released():
    index = fold(idm.evolve_index, idm.claim_name(
        idm.NameIndex(), kind="user", domain_id="default", name="ann", owner_id="u1"))
    assert idm.claim_name(index, kind="user", domain_id="default", name="ann",
                          owner_id="u1") == []
    with pytest.raises(Conflict, match="Duplicate entry"):
        idm.claim_name(index, kind="user", domain_id="default", name="ann", owner_id="u2")
    released = fold(idm.evolve_index, idm.release_name(index, owner_id="u1"), index)
    assert idm.claim_name(released, kind="user", domain_id="default", name="ann",
                          owner_id="u2")


def test_blank_names_are_invalid():
    with pytest.raises(Invalid):
        idm.create_project(None, "p1", name="  ", domain_id="default")


def test_project_updates_record_only_what_changes():
    project = fold(idm.evolve_project, idm.create_project(None, "p1", name="a",
                                                          domain_id="default"))
    assert idm.update_project(project, "p1", name="a") == []
    events = idm.update_project(project, "p1", name="b", enabled=False)
    assert events == [ev.ProjectUpdated(name="b", description=""), ev.ProjectDisabled()]
    later = fold(idm.evolve_project, events, project)
    assert later.name == "b" and not later.enabled
    gone = fold(idm.evolve_project, idm.delete_project(later, "p1"), later)
    with pytest.raises(NotFound):
        idm.update_project(gone, "p1", name="c")


def test_a_password_change_records_no_secret():
    events = idm.create_user(None, "u1", name="ann", domain_id="default", with_password=True)
    assert events[1] == ev.UserPasswordChanged()
    assert ev.UserPasswordChanged.__struct_fields__ == ()


def test_user_updates_and_clearing_attributes():
    user = fold(idm.evolve_user, idm.create_user(None, "u1", name="ann", domain_id="default",
                                                 email="a@x"))
    events = idm.update_user(user, "u1", email=None, enabled=False)
    assert events == [ev.UserUpdated(name="ann"), ev.UserDisabled()]
    with pytest.raises(Invalid):
        idm.update_user(user, "u1", password="x")


def test_grants_are_idempotent_and_revoking_a_missing_one_is_404():
    user = fold(idm.evolve_user, idm.create_user(None, "u1", name="ann", domain_id="default"))
    project = idm.Project(id="p1", name="p", domain_id="default")
    role = idm.Role(id="r1", name="member")
    granted = fold(idm.evolve_user, idm.grant_role(
        user, "u1", project=project, project_id="p1", role=role, role_id="r1"), user)
    assert idm.grant_role(granted, "u1", project=project, project_id="p1", role=role,
                          role_id="r1") == []
    with pytest.raises(NotFound):
        idm.grant_role(granted, "u1", project=None, project_id="p2", role=role,
                       role_id="r1")
    assert idm.revoke_role(granted, "u1", project_id="p1", role_id="r1")
    with pytest.raises(NotFound):
        idm.revoke_role(user, "u1", project_id="p1", role_id="r1")


def test_admin_implies_member_implies_reader():
    assert idm.effective_roles({"admin"}) == {"admin", "member", "reader"}
    assert idm.effective_roles({"member"}) == {"member", "reader"}
    assert idm.effective_roles({"reader"}) == {"reader"}
