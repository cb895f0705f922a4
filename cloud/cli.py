"""The ``cloud`` command: one sub-command per process, plus up, manage and events."""

import argparse
import asyncio
import datetime as dt
import logging
import os
from pathlib import Path

from cloud.settings import Settings


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="cloud", description=__doc__)
    parser.add_argument("--database-url", help="overrides CLOUD_DATABASE_URL")
    parser.add_argument("--nats-url", help="overrides CLOUD_NATS_URL")
    parser.add_argument("-v", "--verbose", action="store_true")
    sub = parser.add_subparsers(dest="command", required=True)
    up = sub.add_parser("up", help="run the whole cloud in the foreground")
    up.add_argument("--state-dir", type=Path, default=Path(".cloud"))
    up.add_argument("--api-port", type=int, default=8774)
    up.add_argument("--hosts", default="host1,host2", help="compute hosts, comma separated")
    up.add_argument("--libvirt-uri", help="default: a test:/// node file per host")
    api = sub.add_parser("api", help="the REST API (Nova v2.1)")
    api.add_argument("--bind", default="127.0.0.1")
    api.add_argument("--port", type=int, default=8774)
    api.add_argument("--public-url", help="base URL clients see (default from bind/port)")
    api.add_argument("--noauth", action="store_true",
                     help="development only: trust X-Auth-User/X-Auth-Project-Id/X-Roles")
    api.add_argument("--token-lifetime", type=int, default=3600, help="seconds")
    api.add_argument("--image-dir", type=Path, default=Path(".cloud/images"),
                     help="where image data files are kept")
    for name in ("relay", "scheduler", "conductor", "projector"):
        sub.add_parser(name, help=f"the {name} agent")
    compute = sub.add_parser("compute", help="the compute agent of one host")
    compute.add_argument("--host", required=True)
    compute.add_argument("--libvirt-uri", default="test:///default")
    compute.add_argument("--instances-path", type=Path, default=Path(".cloud/instances"))
    compute.add_argument("--image-api", default=os.environ.get("CLOUD_IMAGE_API_URL"),
                         help="image API for guest disks, e.g. http://127.0.0.1:8774/image"
                         " (logs in with CLOUD_IDENTITY_URL and CLOUD_SERVICE_USER/"
                         "PASSWORD/PROJECT); default: diskless guests (test driver)")
    _add_manage(sub)
    from cloud.audit_cli import add_audit, add_replay
    add_audit(sub)
    add_replay(sub)
    events = sub.add_parser("events", help="watch the event stream")
    events.add_argument("action", choices=["tail"])
    events.add_argument("subject", nargs="?", default="cloud.events.>")
    events.add_argument("--pretty", action="store_true")
    events.add_argument("--state-dir", type=Path, default=Path(".cloud"))
    return parser


def _add_manage(sub) -> None:
    """``cloud manage``: schema and streams, and the identity commands."""
    manage = sub.add_parser("manage", help="schema, streams and bootstrap data")
    manage.add_argument("action", choices=["db-sync", "streams-sync", "project", "user",
                                           "role"])
    manage.add_argument("args", nargs="*", help="project create NAME | user create NAME |"
                        " user password NAME | role grant ROLE")
    for option in ("--password", "--project", "--role", "--user"):
        manage.add_argument(option)


def main(argv: list[str] | None = None) -> None:
    args = _parser().parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    settings = Settings.from_env(database_url=args.database_url, nats_url=args.nats_url)
    _COMMANDS[args.command](args, settings)


def _up(args, settings: Settings) -> None:
    from cloud import up
    up.run(args.state_dir, api_port=args.api_port, hosts=args.hosts.split(","),
           libvirt_uri=args.libvirt_uri)


def _api(args, settings: Settings) -> None:
    import uvicorn

    from cloud.adapters.consoles import ConsoleClient
    from cloud.adapters.eventstore import EventStore
    from cloud.adapters.imagestore import ImageStore
    from cloud.http.app import create_app
    from cloud.projections.queries import ReadModels

    from cloud.http.context import NoAuth
    from cloud.http.identity_auth import KeystoneAuth

    public = args.public_url or f"http://{args.bind}:{args.port}"
    read_models = ReadModels(settings.database_url, size=16)
    authenticator = NoAuth() if args.noauth else KeystoneAuth.from_read_models(read_models)
    app = create_app(store=EventStore(settings.database_url, pool_size=8),
                     read_models=read_models, public_url=public, authenticator=authenticator,
                     token_lifetime=dt.timedelta(seconds=args.token_lifetime),
                     image_store=ImageStore(args.image_dir),
                     consoles=ConsoleClient(settings.nats_url, user=settings.nats_user,
                                            password=settings.nats_password))
    uvicorn.run(app, host=args.bind, port=args.port, log_level="warning")


def _agent(args, settings: Settings) -> None:
    from cloud import processes
    if args.command == "projector":
        processes.run_projector(settings)
        return
    if args.command == "compute":
        asyncio.run(processes.run_compute(settings, host=args.host,
                                          libvirt_uri=args.libvirt_uri,
                                          instances_path=args.instances_path,
                                          image_api=args.image_api))
        return
    runner = {"relay": processes.run_relay, "scheduler": processes.run_scheduler,
              "conductor": processes.run_conductor}[args.command]
    asyncio.run(runner(settings))


def _manage(args, settings: Settings) -> None:
    from cloud import manage
    if args.action in ("project", "user", "role"):
        from cloud import manage_identity
        manage_identity.run(args, settings.database_url)
    elif args.action == "db-sync":
        manage.db_sync(settings.database_url)
    else:
        asyncio.run(manage.streams_sync(settings.nats_url, user=settings.nats_user,
                                        password=settings.nats_password))


def _events(args, settings: Settings) -> None:
    from cloud.events_tail import tail
    asyncio.run(tail(args.subject, args.state_dir, pretty=args.pretty))


def _audit(args, settings: Settings) -> None:
    from cloud.audit_cli import run
    run(args, settings)


_COMMANDS = {"audit": _audit, "replay": _audit,
             "up": _up, "api": _api, "relay": _agent, "scheduler": _agent,
             "conductor": _agent, "projector": _agent, "compute": _agent,
             "manage": _manage, "events": _events}

if __name__ == "__main__":
    main()
