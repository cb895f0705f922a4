"""A real history for the audit tests: hosts, servers booted, acted on and deleted,
through the real services, with several users in two projects."""

import psycopg

from cloud.adapters.eventstore import EventStore
from cloud.domain.envelope import Actor, Context
from cloud.domain.flavor import DEFAULT_FLAVORS
from cloud.projections import projector
from cloud.projections.queries import ReadModels
from cloud.services import conductor, hosts, instances, scheduling, server_actions
from cloud.services.repository import load_instance
from cloud.services.catalog import DEFAULT_IMAGE_ID
from cloud.util import utcnow


def ctx(request_id: str = "req-audit", **actor: str) -> Context:
    return Context(request_id=request_id, actor=Actor(**actor), timestamp=utcnow())


def catch_up(database_url: str, store: EventStore) -> int:
    with psycopg.connect(database_url, autocommit=True) as conn:
        return projector.catch_up(store, conn)


def boot(store: EventStore, database_url: str, read_models: ReadModels, name: str, *,
         user: str, project: str) -> str:
    server_id, _ = instances.create(store, name=name, flavor=DEFAULT_FLAVORS[0],
                                    image_ref=DEFAULT_IMAGE_ID,
                                    context=ctx(f"req-{name}", user_id=user,
                                                project_id=project))
    catch_up(database_url, store)
    host = scheduling.schedule(store, read_models, server_id, context=ctx(agent="scheduler"))
    instances.spawned(store, server_id, host_name=host, power_state=1,
                      context=ctx(agent=f"compute:{host}"))
    catch_up(database_url, store)
    return server_id


def delete(store: EventStore, server_id: str, *, user: str, project: str) -> None:
    server_actions.delete(store, server_id, context=ctx(user_id=user, project_id=project),
                          is_admin=False)
    state_host = load_instance(store, server_id)[0].host
    instances.deleted(store, server_id, host_name=state_host,
                      context=ctx(agent=f"compute:{state_host}"))


def make_history(database_url: str) -> dict[str, str]:
    """Boot four servers in two projects, lock one, delete two; returns ids by name."""
    store = EventStore(database_url)
    read_models = ReadModels(database_url)
    for name in ("h1", "h2"):
        hosts.register(store, name, context=ctx(agent=f"compute:{name}"),
                       hypervisor_type="QEMU", hypervisor_hostname=name, vcpus=8,
                       memory_mb=8192, disk_gb=40)
    catch_up(database_url, store)
    with psycopg.connect(database_url, autocommit=True) as conn:
        for name in ("h1", "h2"):  # the compute agents are up: the scheduler may use them
            conductor.record_heartbeat(conn, name, "nova-compute", utcnow())
    ids = {name: boot(store, database_url, read_models, name, user=user, project=project)
           for name, user, project in (("web1", "alice", "p1"), ("web2", "alice", "p1"),
                                       ("db1", "bob", "p1"), ("other", "carol", "p2"))}
    server_actions.lock(store, ids["db1"], reason="audit", is_admin=False,
                        context=ctx(user_id="bob", project_id="p1"))
    server_actions.unlock(store, ids["db1"], is_admin=False,
                          context=ctx(user_id="bob", project_id="p1"))
    delete(store, ids["web2"], user="alice", project="p1")
    delete(store, ids["other"], user="carol", project="p2")
    catch_up(database_url, store)
    read_models.close()
    store.close()
    return ids
