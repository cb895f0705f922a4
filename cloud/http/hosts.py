"""``/os-hosts``: Nova's deprecated host API, served before 2.43 (a bare 404 from it, as
Nova). Admin only.

``GET /os-hosts`` lists one entry per enabled service (Nova filters out disabled ones)
named by its topic (``compute``, ``scheduler``, ``conductor``) with its zone, optionally
of one ``zone``. ``GET /os-hosts/{host}`` shows a compute host's ``(total)`` and
``(used_now)`` capacity from the host projection, ``(used_max)`` summed over the flavors
of the servers on it, then one entry per project with servers there.

The rest asks the host's virt driver, and Nova's libvirt driver implements none of it:
``PUT /os-hosts/{host}`` with ``status`` or ``maintenance_mode`` (``set_host_enabled``,
``host_maintenance_mode``) and ``GET /os-hosts/{host}/{startup|shutdown|reboot}``
(``host_power_action``) answer 501 "The requested functionality is not supported."
after the body and the host are checked, as Nova over libvirt does. The status switch is
deliberately not mapped onto os-services' disable: in Nova it is a driver call that
leaves the service's ``disabled`` flag alone. A body naming neither field is, as in
Nova (its schema's ``anyOf`` sits where it checks nothing), a 200 echoing the host.
"""

from typing import Any

from litestar import Request, get, put
from litestar.exceptions import NotFoundException
from litestar.params import FromPath, RawBody

from cloud.http import service_requests as requests
from cloud.http import services as svc
from cloud.http.context import Backend, BackendDep, identity
from cloud.http.faults import BadRequest, ItemNotFound, Unimplemented
from cloud.http.microversions import APIVersion, negotiated
from cloud.http.policy import authorize
from cloud.projections.aggregate_queries import AggregateQueries

V2_43 = APIVersion(2, 43)
Row = dict[str, Any]
POLICY = "os_compute_api:os-hosts:"
SWITCH = ["enable", "disable", "Enable", "Disable", "ENABLE", "DISABLE"]
NOT_SUPPORTED = "The requested functionality is not supported."


# --- views ----------------------------------------------------------------------------


def topic(binary: str) -> str:
    """Nova's service topic: the binary without its ``nova-`` prefix."""
    return binary.removeprefix("nova-")


def host_entries(rows: list[Row], zones: dict[str, str],
                 zone: str | None) -> list[dict[str, str]]:
    """One entry per enabled service, of the ``zone`` asked for if any."""
    listed = [{"host_name": row["host"], "service": topic(row["binary_name"]),
               "zone": svc.zone(row, zones)} for row in rows if not row["disabled"]]
    return [entry for entry in listed if not zone or entry["zone"] == zone]


def _resource(host: str, project: str, cpu: int, memory_mb: int,
              disk_gb: int) -> dict[str, Any]:
    return {"resource": {"host": host, "project": project, "cpu": cpu,
                         "memory_mb": memory_mb, "disk_gb": disk_gb}}


def _flavor_sum(flavors: list[dict[str, Any]]) -> tuple[int, int, int]:
    return (sum(f["vcpus"] for f in flavors), sum(f["ram"] for f in flavors),
            sum(f["disk"] + f.get("ephemeral", 0) for f in flavors))


def host_resources(host: Row, servers: list[Row]) -> list[dict[str, Any]]:
    """Nova's ``show``: totals, usage now, the servers' flavors summed, per project."""
    name = host["name"]
    projects: dict[str, list[dict[str, Any]]] = {}
    for server in servers:
        projects.setdefault(server["project_id"], []).append(server["flavor"])
    return [_resource(name, "(total)", host["vcpus"], host["memory_mb"], host["disk_gb"]),
            _resource(name, "(used_now)", host["vcpus_used"], host["memory_mb_used"],
                      host["disk_gb_used"]),
            _resource(name, "(used_max)", *_flavor_sum([s["flavor"] for s in servers])),
            *(_resource(name, project, *_flavor_sum(flavors))
              for project, flavors in projects.items())]


# --- reading requests -----------------------------------------------------------------


def _gone(request: Request) -> None:
    # From 2.43 the whole API is gone: a bare 404, before any policy check.
    if negotiated(request.scope) >= V2_43:
        raise NotFoundException()


def _switch(field: str, value: Any) -> str:
    if not isinstance(value, str) or value not in SWITCH:
        raise BadRequest(f"Invalid input for field/attribute {field}. Value: {value}."
                         f" {value!r} is not one of {SWITCH}")
    return value


UPDATE = {"status": _switch, "maintenance_mode": _switch}


def compute_host(backend: Backend, name: str) -> Row:
    """The compute host of that name, or Nova's 404 for a host no cell maps."""
    for row in svc.queries(backend).hypervisors():
        if row["name"] == name:
            return row
    raise ItemNotFound(f"Host '{name}' is not mapped to any cell")


# --- handlers -------------------------------------------------------------------------


@get("/os-hosts", sync_to_thread=True)
def list_hosts(request: Request, backend: BackendDep) -> dict[str, Any]:
    _gone(request)
    authorize(identity(request), POLICY + "list")
    zones = AggregateQueries(backend.read_models.pool).host_zones()
    rows = svc.queries(backend).services()
    return {"hosts": host_entries(rows, zones, request.query_params.get("zone"))}


@get("/os-hosts/{host_name:str}", sync_to_thread=True)
def show_host(request: Request, backend: BackendDep,
              host_name: FromPath[str]) -> dict[str, Any]:
    _gone(request)
    authorize(identity(request), POLICY + "show")
    host = compute_host(backend, host_name)
    return {"host": host_resources(host, svc.queries(backend).flavors_on(host_name))}


@put("/os-hosts/{host_name:str}", status_code=200, sync_to_thread=True)
def update_host(request: Request, backend: BackendDep, host_name: FromPath[str],
                body: RawBody) -> dict[str, Any]:
    """Enable/disable or maintenance mode: 501 once checked, as Nova over libvirt."""
    _gone(request)
    fields = requests.parse(body, UPDATE)
    authorize(identity(request), POLICY + "update")
    if not fields:
        return {"host": host_name}
    compute_host(backend, host_name)
    raise Unimplemented(NOT_SUPPORTED)


def _power_action(request: Request, backend: Backend, host_name: str, rule: str) -> None:
    _gone(request)
    authorize(identity(request), POLICY + rule)
    compute_host(backend, host_name)
    raise Unimplemented(NOT_SUPPORTED)


@get("/os-hosts/{host_name:str}/startup", sync_to_thread=True)
def startup(request: Request, backend: BackendDep, host_name: FromPath[str]) -> None:
    _power_action(request, backend, host_name, "start")


@get("/os-hosts/{host_name:str}/shutdown", sync_to_thread=True)
def shutdown(request: Request, backend: BackendDep, host_name: FromPath[str]) -> None:
    _power_action(request, backend, host_name, "shutdown")


@get("/os-hosts/{host_name:str}/reboot", sync_to_thread=True)
def reboot(request: Request, backend: BackendDep, host_name: FromPath[str]) -> None:
    _power_action(request, backend, host_name, "reboot")


HANDLERS = [list_hosts, show_host, update_host, startup, shutdown, reboot]
