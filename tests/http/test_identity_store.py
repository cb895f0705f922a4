"""Identity services against the real event log: names stay unique under a race."""

import pytest

from cloud.adapters.eventstore import EventStore
from cloud.domain import ids
from cloud.domain.envelope import Context
from cloud.domain.errors import Conflict
from cloud.services import identity
from cloud.util import utcnow


@pytest.fixture
def store(database_url):
    store = EventStore(database_url)
    yield store
    store.close()


def test_two_creates_that_both_saw_the_name_free_cannot_both_save(store):
    """Both decide against the same index version; the log takes exactly one."""
    context = Context(timestamp=utcnow())
    first = identity.name_batch(store, "project", "default", "twin", owner_id="a" * 32)
    second = identity.name_batch(store, "project", "default", "twin", owner_id="b" * 32)
    assert first.expected_version == second.expected_version
    store.append(first, context=context)
    with pytest.raises(Conflict):
        store.append(second, context=context)
    assert identity.load_index(store, "project", "default", "twin")[0].owner_id == "a" * 32


def test_a_deleted_project_frees_its_name(store):
    context = Context(timestamp=utcnow())
    project_id, _ = identity.create_project(store, name="reuse", context=context)
    with pytest.raises(Conflict):
        identity.create_project(store, name="reuse", context=context)
    identity.delete_project(store, project_id, context=context)
    assert identity.create_project(store, name="reuse", context=context)[0] != project_id


def test_cloud_manage_identity_commands(database_url, store, capsys):
    from cloud.adapters.credentials import Credentials
    from cloud.cli import main
    from cloud.manage import identity_pool
    from cloud.services.identity_bootstrap import owner_of

    def manage(*args):
        main(["--database-url", database_url, "manage", *args])
        return capsys.readouterr().out

    assert "project ops:" in manage("project", "create", "ops")
    manage("user", "create", "carol", "--password", "one", "--project", "ops",
           "--role", "member")
    manage("role", "grant", "reader", "--user", "carol", "--project", "ops")
    assert "password changed" in manage("user", "password", "carol", "--password", "two")
    # A generated password may begin with a dash: the --option=value form takes it.
    assert "password changed" in manage("user", "password", "carol", "--password=-dash")
    user_id = owner_of(store, "user", "carol")
    user, _ = identity.load_user(store, user_id)
    assert {role for _, role in user.grants} == {ids.role_id("member"), ids.role_id("reader")}
    with identity_pool(database_url) as pool:
        assert Credentials(pool).verify(user_id, "-dash")
        assert not Credentials(pool).verify(user_id, "two")
        assert not Credentials(pool).verify(user_id, "one")
