"""``cloud manage project|user|role ...``: the operator's identity commands.

    cloud manage project create NAME
    cloud manage user create NAME [--password P] [--project P --role R]
    cloud manage user password NAME [--password P]
    cloud manage role grant ROLE --user U --project P

Without --password the password is asked for twice on a terminal, or read from the
first line of standard input (so that it shows in no process list or shell history).
A password that begins with "-" is given as --password=-P.
"""

import argparse
import getpass
import sys

from cloud.adapters.credentials import Credentials
from cloud.adapters.eventstore import EventStore
from cloud.domain.errors import DomainError
from cloud.manage import identity_pool
from cloud.services import identity_bootstrap as ops
from cloud.util import utcnow

USAGE = __doc__.split("\n\n", 1)[1]


def _need(args: argparse.Namespace, *options: str) -> None:
    missing = [f"--{name}" for name in options if not getattr(args, name)]
    if missing:
        sys.exit(f"cloud manage: {' '.join(missing)} required\n{USAGE}")


def _password(args: argparse.Namespace) -> str:
    """The password given with --password, else asked for or read from standard input."""
    if args.password is not None:
        password = args.password
    elif sys.stdin.isatty():
        password = getpass.getpass("Password: ")
        if getpass.getpass("Repeat it: ") != password:
            sys.exit("cloud manage: the passwords differ")
    else:
        password = sys.stdin.readline().removesuffix("\n").removesuffix("\r")
    if not password:
        sys.exit("cloud manage: the password is empty")
    return password


def _dispatch(args: argparse.Namespace, store: EventStore, credentials: Credentials) -> str:
    """Run one command; returns what to print."""
    command = (args.action, *args.args[:1])
    name = args.args[1] if len(args.args) == 2 else sys.exit(USAGE)
    now = utcnow()
    if command == ("project", "create"):
        return f"project {name}: {ops.create_project(store, name, timestamp=now)}"
    if command == ("user", "create"):
        user_id = ops.create_user(store, credentials, name, password=_password(args),
                                  project=args.project, role=args.role, timestamp=now)
        return f"user {name}: {user_id}"
    if command == ("user", "password"):
        ops.set_password(store, credentials, name, password=_password(args), timestamp=now)
        return f"user {name}: password changed"
    if command == ("role", "grant"):
        _need(args, "user", "project")
        ops.grant(store, name, user=args.user, project=args.project, timestamp=now)
        return f"role {name} granted to {args.user} on {args.project}"
    sys.exit(USAGE)


def run(args: argparse.Namespace, database_url: str) -> None:
    """Run the command the arguments name against the database."""
    store = EventStore(database_url, pool_size=1)
    try:
        with identity_pool(database_url) as pool:
            print(_dispatch(args, store, Credentials(pool)))
    except DomainError as error:
        sys.exit(f"cloud manage: {error}")
    finally:
        store.close()
