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


def test_cloud_manage_reads_a_password_left_off_the_command_line_from_stdin(database_url,
                                                                             store):
    """What a script does to keep a password out of the process list: pipe it in. An
    empty one is refused, and the user keeps the password it had."""
    import subprocess
    import sys

    from cloud.adapters.credentials import Credentials
    from cloud.manage import identity_pool
    from cloud.services.identity_bootstrap import owner_of

    def manage(*args, stdin):
        return subprocess.run([sys.executable, "-m", "cloud.cli", "--database-url",
                               database_url, "manage", *args], input=stdin,
                              capture_output=True, text=True, timeout=60)

    created = manage("user", "create", "dave", stdin="-starts with a dash\nnot this\n")
    assert created.returncode == 0, created.stderr
    empty = manage("user", "password", "dave", stdin="\n")
    assert empty.returncode == 1
    assert "the password is empty" in empty.stderr
    user_id = owner_of(store, "user", "dave")
    with identity_pool(database_url) as pool:
        assert Credentials(pool).verify(user_id, "-starts with a dash")
        assert not Credentials(pool).verify(user_id, "not this")


def _on_a_terminal(argv: list[str], answers: list[str]) -> tuple[int, str]:
    """Run a command with a pseudo-terminal as its terminal, answering each prompt
    (text ending in ": ") in turn; returns its exit code and all it wrote."""
    import os
    import pty
    import select

    pid, fd = pty.fork()
    if pid == 0:
        os.execv(argv[0], argv)
    out, answered = b"", 0
    while True:
        if not select.select([fd], [], [], 60)[0]:
            os.kill(pid, 9)
            raise TimeoutError(out)
        try:
            chunk = os.read(fd, 1024)
        except OSError:  # the command ended and closed the terminal
            break
        if not chunk:
            break
        out += chunk
        if answered < len(answers) and out.count(b": ") > answered:
            os.write(fd, answers[answered].encode() + b"\n")
            answered += 1
    os.close(fd)
    return os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]), out.decode()


def test_cloud_manage_asks_for_a_password_twice_on_a_terminal(database_url, store):
    """Two different answers change nothing; two equal ones set it (nothing echoed)."""
    import sys

    from cloud.adapters.credentials import Credentials
    from cloud.manage import identity_pool
    from cloud.services.identity_bootstrap import owner_of

    manage = [sys.executable, "-m", "cloud.cli", "--database-url", database_url, "manage",
              "user"]
    code, out = _on_a_terminal([*manage, "create", "erin", "--password", "old"], [])
    assert code == 0, out
    code, out = _on_a_terminal([*manage, "password", "erin"], ["new one", "new two"])
    assert (code, out.count("Password: "), out.count("Repeat it: ")) == (1, 1, 1), out
    assert "the passwords differ" in out
    code, out = _on_a_terminal([*manage, "password", "erin"], ["new one", "new one"])
    assert code == 0 and "erin: password changed" in out and "new one" not in out, out
    with identity_pool(database_url) as pool:
        assert Credentials(pool).verify(owner_of(store, "user", "erin"), "new one")
