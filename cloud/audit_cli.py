"""The ``cloud audit`` and ``cloud replay`` sub-commands: arguments and dispatch."""

import argparse

from cloud.settings import Settings

AUDITS = ("server", "project", "user", "as-of", "verify", "snapshot")


def add_audit(sub) -> None:
    audit = sub.add_parser(
        "audit", help="history from the event log",
        description="server ID|NAME; project ID; user ID; as-of TIME|POSITION"
                    " [server ID | host NAME | cloud]; verify; snapshot [POSITION]")
    audit.add_argument("what", choices=AUDITS)
    audit.add_argument("key", nargs="?", help="server id or name (deleted servers too),"
                       " project or user id, or an ISO time / log position for as-of")
    audit.add_argument("scope", nargs="*", help="as-of: server ID | host NAME | cloud")
    audit.add_argument("--json", action="store_true")
    audit.add_argument("--since", help="ISO time: events at or after it")
    audit.add_argument("--until", help="ISO time: events before it")
    audit.add_argument("--skip-nats", action="store_true",
                       help="verify: do not compare JetStream with the log")
    audit.add_argument("--nats-wait", type=float, default=5.0,
                       help="verify: seconds to wait for the relay to catch up")


def add_replay(sub) -> None:
    replay = sub.add_parser("replay", help="rebuild read models from the log and swap"
                            " them in without stopping the API")
    replay.add_argument("--projection", action="append", default=[], metavar="TABLE",
                        help="a read-model table to rebuild (repeatable; default: all)")


def run(args: argparse.Namespace, settings: Settings) -> None:
    url = settings.database_url
    if args.command == "replay":
        from cloud.replay import replay
        replay(url, tables=args.projection or None)
        return
    if args.what == "snapshot":
        from cloud.audit_snapshots import take
        position, name = take(url, int(args.key) if args.key else None)
        print(f"snapshot at log position {position}: {name or 'already there'}")
        return
    if args.what != "verify" and not args.key:
        raise SystemExit(f"cloud audit {args.what} needs an argument")
    if args.what == "server":
        from cloud.audit import audit_server
        audit_server(url, args.key, as_json=args.json)
    elif args.what == "verify":
        from cloud.audit_verify import main
        main(settings, nats=not args.skip_nats, nats_wait=args.nats_wait)
    elif args.what == "as-of":
        from cloud.audit_as_of import as_of
        as_of(url, args.key, args.scope, as_json=args.json)
    else:
        from cloud.audit_history import audit_actor
        audit_actor(url, args.what, args.key, since=args.since, until=args.until,
                    as_json=args.json)
