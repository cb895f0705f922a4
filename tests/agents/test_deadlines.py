"""The conductor's deadlines: a step nobody finishes becomes an event of its own."""

import datetime as dt
import uuid

import psycopg

from cloud.adapters.eventstore import EventStore
from cloud.domain.envelope import Actor, Context
from cloud.domain.flavor import DEFAULT_FLAVORS
from cloud.projections import projector
from cloud.projections.queries import ReadModels
from cloud.services import conductor, instances, server_actions
from cloud.services.catalog import DEFAULT_IMAGE_ID
from cloud.util import utcnow
from tests.agents.test_boot_flow import wait_until

TINY = DEFAULT_FLAVORS[0]


def context():
    return Context(request_id="req-deadline", actor=Actor(user_id="u1", project_id="p1"),
                   timestamp=utcnow())


def test_a_build_and_an_action_past_their_deadlines_end_in_error(database_url):
    store, read_models = EventStore(database_url), ReadModels(database_url)
    with projector.in_background(database_url), \
            psycopg.connect(database_url, autocommit=True) as conn:
        building, _ = instances.create(store, name="never-placed", flavor=TINY,
                                       image_ref=DEFAULT_IMAGE_ID, context=context())
        stopping, _ = instances.create(store, name="never-stopped", flavor=TINY,
                                       image_ref=DEFAULT_IMAGE_ID, context=context())
        instances.schedule(store, stopping, host_name="h1", context=context())
        instances.spawned(store, stopping, host_name="h1", power_state=1, context=context())
        server_actions.act(store, stopping, "stop", context=context(), is_admin=False)
        wait_until(lambda: (row := read_models.server(stopping))
                   and row["task_state"] == "powering-off")

        assert conductor.sweep(store, conn, dt.datetime.now(dt.UTC)) == 0
        later = dt.datetime.now(dt.UTC) + dt.timedelta(minutes=11)
        assert conductor.sweep(store, conn, later) == 2
        assert conductor.sweep(store, conn, later) == 0  # nothing twice

        wait_until(lambda: read_models.server(stopping)["vm_state"] == "error")
        stuck = read_models.server(stopping)
        assert stuck["task_state"] is None
        assert "powering-off did not finish on h1" in stuck["fault"]["message"]
        assert read_models.server(building)["vm_state"] == "error"
        names = [e.event for e in store.load(uuid.UUID(stopping))]
        assert names[-1] == "InstanceActionFailed"
    read_models.close()
    store.close()
