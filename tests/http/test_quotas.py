"""``/os-quota-sets`` and ``/limits`` over HTTP against a real PostgreSQL, and quota
enforcement at server create, also when creates race (threads and processes)."""

import contextlib
import subprocess
import sys
import threading
import uuid

import pytest
from litestar.testing import TestClient

from cloud.adapters.eventstore import EventStore
from cloud.domain.quota import DEFAULT_LIMITS
from cloud.http import quotas as quota_api
from cloud.http.app import create_app
from cloud.http.context import NoAuth
from cloud.http.microversions import APIVersion
from cloud.projections import projector
from cloud.projections.queries import ReadModels
from cloud.services import catalog, quotas

API = "/compute/v2.1"
ABSOLUTE_2_1 = {
    "maxImageMeta", "maxPersonality", "maxPersonalitySize", "maxSecurityGroupRules",
    "maxSecurityGroups", "maxServerMeta", "maxTotalCores", "maxTotalFloatingIps",
    "maxTotalInstances", "maxTotalKeypairs", "maxTotalRAMSize", "maxServerGroups",
    "maxServerGroupMembers", "totalCoresUsed", "totalInstancesUsed", "totalRAMUsed",
    "totalSecurityGroupsUsed", "totalFloatingIpsUsed", "totalServerGroupsUsed"}
NOVA_DEFAULTS = {
    "cores": 20, "fixed_ips": -1, "floating_ips": -1, "injected_file_content_bytes": 10240,
    "injected_file_path_bytes": 255, "injected_files": 5, "instances": 10, "key_pairs": 100,
    "metadata_items": 128, "ram": 51200, "security_group_rules": -1, "security_groups": -1,
    "server_groups": 10, "server_group_members": 10}


class Cloud:
    def __init__(self, url: str) -> None:
        self.url = url
        self.store, self.read_models = EventStore(url, pool_size=8), ReadModels(url, size=8)

    def app(self):
        return create_app(store=self.store, read_models=self.read_models,
                          authenticator=NoAuth())


@pytest.fixture(scope="module")
def cloud(databases):
    cloud = Cloud(databases.make())
    with projector.in_background(cloud.url):
        yield cloud
    cloud.read_models.close()
    cloud.store.close()


@pytest.fixture(scope="module")
def client(cloud):
    with TestClient(cloud.app()) as client:
        yield client


def member(project, user="someone", version="2.1"):
    return {"X-Auth-User": user, "X-Auth-Project-Id": project, "X-Roles": "member,reader",
            "OpenStack-API-Version": f"compute {version}"}


ADMIN = {"X-Auth-User": "admin", "X-Auth-Project-Id": "admin", "X-Roles": "admin"}


def project():
    return f"p-{uuid.uuid4().hex[:8]}"


def set_quota(client, project_id, **limits):
    response = client.put(f"{API}/os-quota-sets/{project_id}", json={"quota_set": limits},
                          headers=ADMIN)
    assert response.status_code == 200, response.text
    return response.json()


def boot(client, headers, flavor="1"):
    body = {"server": {"name": "vm", "imageRef": catalog.DEFAULT_IMAGE_ID,
                       "flavorRef": flavor}}
    return client.post(f"{API}/servers", json=body, headers=headers)


def assert_fault(response, status, name, message=None):
    assert response.status_code == status, response.text
    assert list(response.json()) == [name]
    if message is not None:
        assert response.json()[name]["message"] == message


# --- quota sets -----------------------------------------------------------------------


def test_defaults_are_novas(client):
    p = project()
    for path in (f"os-quota-sets/{p}/defaults", f"os-quota-sets/{p}"):
        response = client.get(f"{API}/{path}", headers=member(p))
        assert response.status_code == 200
        assert response.json() == {"quota_set": {"id": p, **NOVA_DEFAULTS}}


def test_admin_updates_and_everyone_sees_the_new_limits(client):
    p = project()
    body = set_quota(client, p, instances=5, cores="7", ram=-1)
    assert body == {"quota_set": {**NOVA_DEFAULTS, "instances": 5, "cores": 7, "ram": -1}}
    shown = client.get(f"{API}/os-quota-sets/{p}", headers=member(p)).json()["quota_set"]
    assert (shown["instances"], shown["cores"], shown["ram"]) == (5, 7, -1)
    defaults = client.get(f"{API}/os-quota-sets/{p}/defaults", headers=member(p)).json()
    assert defaults["quota_set"]["instances"] == 10


def test_only_admins_change_quotas_and_members_see_only_their_project(client):
    p = project()
    forbidden = "Policy doesn't allow os_compute_api:os-quota-sets:{} to be performed."
    assert_fault(client.put(f"{API}/os-quota-sets/{p}", json={"quota_set": {"cores": 1}},
                            headers=member(p)), 403, "forbidden", forbidden.format("update"))
    assert_fault(client.delete(f"{API}/os-quota-sets/{p}", headers=member(p)), 403,
                 "forbidden", forbidden.format("delete"))
    assert_fault(client.get(f"{API}/os-quota-sets/{p}", headers=member("other")), 403,
                 "forbidden", forbidden.format("show"))
    assert_fault(client.get(f"{API}/os-quota-sets/{p}/detail", headers=member("other")),
                 403, "forbidden", forbidden.format("detail"))
    assert client.get(f"{API}/os-quota-sets/{p}/defaults",
                      headers=member("other")).status_code == 200


@pytest.mark.parametrize("body", [
    {"quota_set": {"bogus": 1}},
    {"quota_set": {"instances": -2}},
    {"quota_set": {"instances": "ten"}},
    {"quota_set": {"instances": True}},
    {"quota_set": {"instances": 2**31}},
    {"quota_set": {"instances": 1}, "extra": {}},
    {"quota_set": {"force": "maybe"}},
    {"nothing": 1},
])
def test_bad_updates_are_400(client, body):
    assert_fault(client.put(f"{API}/os-quota-sets/{project()}", json=body, headers=ADMIN),
                 400, "badRequest")


def test_delete_resets_to_the_defaults(client):
    p = project()
    set_quota(client, p, instances=1, key_pairs=3)
    response = client.delete(f"{API}/os-quota-sets/{p}", headers=ADMIN)
    assert response.status_code == 202 and response.content == b""
    assert client.get(f"{API}/os-quota-sets/{p}", headers=ADMIN).json() == {
        "quota_set": {"id": p, **NOVA_DEFAULTS}}


def test_detail_and_a_limit_below_usage(client):
    p = project()
    for _ in range(3):
        assert boot(client, member(p)).status_code == 202
    detail = client.get(f"{API}/os-quota-sets/{p}/detail", headers=member(p)).json()
    assert detail["quota_set"]["id"] == p
    assert detail["quota_set"]["instances"] == {"limit": 10, "in_use": 3, "reserved": 0}
    assert detail["quota_set"]["cores"] == {"limit": 20, "in_use": 3, "reserved": 0}
    assert detail["quota_set"]["ram"] == {"limit": 51200, "in_use": 1536, "reserved": 0}
    assert detail["quota_set"]["key_pairs"] == {"limit": 100, "in_use": 0, "reserved": 0}
    assert_fault(client.put(f"{API}/os-quota-sets/{p}", json={"quota_set": {"instances": 2}},
                            headers=ADMIN), 400, "badRequest",
                 "Quota limit 2 for instances must be greater than or equal to already"
                 " used and reserved 3.")
    forced = {"quota_set": {"instances": 2, "force": True}}
    assert client.put(f"{API}/os-quota-sets/{p}", json=forced, headers=ADMIN).json()[
        "quota_set"]["instances"] == 2


# --- limits ---------------------------------------------------------------------------


def test_limits_show_the_projects_usage(client):
    p = project()
    empty = client.get(f"{API}/limits", headers=member(p)).json()
    assert empty["limits"]["rate"] == []
    absolute = empty["limits"]["absolute"]
    assert set(absolute) == ABSOLUTE_2_1
    assert absolute["maxTotalInstances"] == 10 and absolute["totalInstancesUsed"] == 0
    assert absolute["maxServerMeta"] == absolute["maxImageMeta"] == 128
    assert (absolute["maxPersonality"], absolute["maxPersonalitySize"]) == (5, 10240)
    assert absolute["maxTotalKeypairs"] == 100 and absolute["maxSecurityGroups"] == -1
    boot(client, member(p), flavor="1")
    boot(client, member(p), flavor="3")
    used = client.get(f"{API}/limits", headers=member(p)).json()["limits"]["absolute"]
    assert (used["totalInstancesUsed"], used["totalCoresUsed"], used["totalRAMUsed"]) == (
        2, 3, 4608)
    as_admin = client.get(f"{API}/limits", params={"tenant_id": p}, headers=ADMIN).json()
    assert as_admin["limits"]["absolute"]["totalInstancesUsed"] == 2
    assert_fault(client.get(f"{API}/limits", params={"tenant_id": p}, headers=member(p)), 403,
                 "forbidden", "Policy doesn't allow os_compute_api:limits:other_project"
                              " to be performed.")


def test_limits_and_quota_sets_by_microversion():
    used = {"instances": 1, "cores": 2, "ram": 3}
    at = quota_api.absolute_limits
    assert set(at(DEFAULT_LIMITS, used, APIVersion(2, 35))) == ABSOLUTE_2_1
    assert set(at(DEFAULT_LIMITS, used, APIVersion(2, 36))) == ABSOLUTE_2_1 - {
        "maxSecurityGroupRules", "maxSecurityGroups", "maxTotalFloatingIps",
        "totalFloatingIpsUsed", "totalSecurityGroupsUsed"}
    assert set(at(DEFAULT_LIMITS, used, APIVersion(2, 39))) == set(
        at(DEFAULT_LIMITS, used, APIVersion(2, 36))) - {"maxImageMeta"}
    assert set(at(DEFAULT_LIMITS, used, APIVersion(2, 57))) == set(
        at(DEFAULT_LIMITS, used, APIVersion(2, 39))) - {"maxPersonality",
                                                        "maxPersonalitySize"}
    assert len(quota_api.quota_resources(APIVersion(2, 35))) == 14
    assert set(quota_api.quota_resources(APIVersion(2, 36))) == set(NOVA_DEFAULTS) - {
        "fixed_ips", "floating_ips", "security_groups", "security_group_rules"}
    assert set(quota_api.quota_resources(APIVersion(2, 57))) == set(
        quota_api.quota_resources(APIVersion(2, 36))) - {
        "injected_files", "injected_file_content_bytes", "injected_file_path_bytes"}


# --- enforcement ----------------------------------------------------------------------


def test_server_creates_past_the_quota_are_403_with_novas_message(client):
    p = project()
    set_quota(client, p, instances=2)
    ids = [boot(client, member(p)).json()["server"]["id"] for _ in range(2)]
    assert_fault(boot(client, member(p)), 403, "forbidden",
                 "Quota exceeded for instances: Requested 1, but already used 2 of 2"
                 " instances")
    assert client.delete(f"{API}/servers/{ids[0]}", headers=member(p)).status_code == 204
    assert boot(client, member(p)).status_code == 202  # the deleted one gave its room back


def test_cores_and_ram_are_counted_too(client):
    p = project()
    set_quota(client, p, cores=3, ram=5000)
    assert boot(client, member(p), flavor="3").status_code == 202  # 2 cores, 4096 MiB
    assert_fault(boot(client, member(p), flavor="3"), 403, "forbidden",
                 "Quota exceeded for cores, ram: Requested 2, 4096, but already used"
                 " 2, 4096 of 3, 5000 cores, ram")


def test_metadata_items_are_limited(client):
    p = project()
    set_quota(client, p, metadata_items=1)
    body = {"server": {"name": "vm", "imageRef": catalog.DEFAULT_IMAGE_ID, "flavorRef": "1",
                       "metadata": {"a": "1", "b": "2"}}}
    assert_fault(client.post(f"{API}/servers", json=body, headers=member(p)), 403,
                 "forbidden", "Maximum number of metadata items exceeds 1")


def test_racing_creates_through_the_api_never_pass_the_quota(cloud, client):
    p = project()
    set_quota(client, p, instances=5)
    start, statuses = threading.Barrier(12), []

    def create_one(own: TestClient) -> None:
        start.wait()
        statuses.append(boot(own, member(p)).status_code)

    with contextlib.ExitStack() as clients:  # one client (and app) per thread
        threads = [threading.Thread(target=create_one,
                                    args=(clients.enter_context(TestClient(cloud.app())),))
                   for _ in range(12)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
    assert sorted(statuses) == [202] * 5 + [403] * 7
    usage, _ = quotas.load_usage(cloud.store, p)
    assert usage.in_use()["instances"] == 5
    detail = client.get(f"{API}/os-quota-sets/{p}/detail", headers=member(p)).json()
    assert detail["quota_set"]["instances"]["in_use"] == 5


RACER = """
import sys, threading
from cloud.adapters.eventstore import EventStore
from cloud.domain.envelope import Actor, Context
from cloud.domain.errors import QuotaExceeded
from cloud.domain.flavor import DEFAULT_FLAVORS
from cloud.services import instances
from cloud.services.catalog import DEFAULT_IMAGE_ID
from cloud.util import utcnow

url, project_id = sys.argv[1:3]
store = EventStore(url, pool_size=4)
context = Context(actor=Actor(user_id="u", project_id=project_id), timestamp=utcnow())
won = []

def boot():
    try:
        instances.create(store, name="racer", flavor=DEFAULT_FLAVORS[0],
                         image_ref=DEFAULT_IMAGE_ID, context=context)
        won.append(1)
    except QuotaExceeded:
        pass

threads = [threading.Thread(target=boot) for _ in range(4)]
print("ready", flush=True)
sys.stdin.readline()
for thread in threads:
    thread.start()
for thread in threads:
    thread.join()
print(len(won), flush=True)
"""


def test_racing_creates_in_several_processes_never_pass_the_quota(cloud, client):
    """Across processes only optimistic concurrency on the usage stream keeps count."""
    p = project()
    set_quota(client, p, instances=5)
    racers = [subprocess.Popen([sys.executable, "-c", RACER, cloud.url, p], text=True,
                               stdin=subprocess.PIPE, stdout=subprocess.PIPE)
              for _ in range(3)]
    for racer in racers:
        assert racer.stdout.readline().strip() == "ready"
    for racer in racers:
        racer.stdin.write("go\n")
        racer.stdin.flush()
    won = [int(racer.communicate(timeout=60)[0].strip()) for racer in racers]
    assert sum(won) == 5
    usage, _ = quotas.load_usage(cloud.store, p)
    assert usage.in_use()["instances"] == 5
