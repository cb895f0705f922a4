"""Microversion changes outside the servers API, over HTTP against a real PostgreSQL log
and read models: key pairs (2.35 paging, 2.75 strict queries, 2.92 import only), quotas
and limits (2.36, 2.39, 2.57), flavors (2.75 swap, 2.86 extra spec validation) and the
aggregate image precache (2.81). Tests of versions above the one served skip until it is
(run them with a plugin raising ``MAX_VERSION``); the ones at 2.25 pin the old behaviour."""

import uuid

import pytest
from litestar.testing import TestClient

from cloud.adapters.eventstore import EventStore
from cloud.http import microversions
from cloud.http.app import create_app
from cloud.http.context import NoAuth
from cloud.projections import projector
from cloud.projections.queries import ReadModels
from cloud.services import catalog
from cloud.util import utcnow

API = "/compute/v2.1"
KEY = ("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJ//fUbguOmPyHCrIfQKTnwfWriT5iifiUZjrSLZB0Ga"
       " test@cloud")
NETWORK = {"fixed_ips", "floating_ips", "security_groups", "security_group_rules"}
FILES = {"injected_files", "injected_file_content_bytes", "injected_file_path_bytes"}


@pytest.fixture(scope="module")
def backend(databases):
    url = databases.make()
    store, read_models = EventStore(url), ReadModels(url)
    catalog.bootstrap(store, timestamp=utcnow())
    app = create_app(store=store, read_models=read_models, authenticator=NoAuth())
    with projector.in_background(url), TestClient(app) as client:
        read_models.wait_for(store.head())
        yield client, store
    read_models.close()
    store.close()


@pytest.fixture
def client(backend):
    return backend[0]


def needs(version):
    """Skip a test of a microversion above the one served (it runs once it is served)."""
    return pytest.mark.skipif(microversions.MAX_VERSION < microversions.parse(version),
                              reason=f"microversion {version} not served yet")


def user(name, version="2.1", *, roles="member,reader", project=None):
    return {"X-Auth-User": name, "X-Auth-Project-Id": project or f"project-{name}",
            "X-Roles": roles, "OpenStack-API-Version": f"compute {version}"}


def admin(version="2.1"):
    return user("admin", version, roles="admin,member,reader", project="admin")


def unique(prefix="k"):
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def fault(response, status, name="badRequest"):
    assert response.status_code == status, response.text
    assert list(response.json()) == [name]
    return response.json()[name]["message"]


# --- key pairs ------------------------------------------------------------------------


def keypairs_of(client, name, count, version):
    for index in range(count):
        body = {"keypair": {"name": f"{index}-{unique()}", "public_key": KEY}}
        response = client.post(f"{API}/os-keypairs", json=body, headers=user(name, version))
        assert response.status_code == 201, response.text
    response = client.get(f"{API}/os-keypairs", headers=user(name, version))
    return [item["keypair"]["name"] for item in response.json()["keypairs"]]


def test_keypair_paging_and_strict_queries_are_ignored_at_2_25(client):
    name = unique("u")
    names = keypairs_of(client, name, 3, "2.25")
    response = client.get(f"{API}/os-keypairs?limit=1&marker=nope&bogus=1",
                          headers=user(name, "2.25"))
    assert response.status_code == 200, response.text
    assert list(response.json()) == ["keypairs"] and len(response.json()["keypairs"]) == 3
    assert names == sorted(names)


def test_keypair_names_with_at_and_dot_are_refused_before_2_92(client):
    body = {"keypair": {"name": "me@host.example", "public_key": KEY}}
    response = client.post(f"{API}/os-keypairs", json=body, headers=user(unique("u"), "2.25"))
    assert "does not match" in fault(response, 400)


@needs("2.35")
def test_keypairs_page_by_name_from_2_35(client):
    name = unique("u")
    names = keypairs_of(client, name, 3, "2.35")
    first = client.get(f"{API}/os-keypairs?limit=2", headers=user(name, "2.35")).json()
    assert [k["keypair"]["name"] for k in first["keypairs"]] == names[:2]
    (link,) = first["keypairs_links"]
    assert link["rel"] == "next" and f"marker={names[1]}" in link["href"]
    rest = client.get(f"{API}/os-keypairs?limit=2&marker={names[1]}",
                      headers=user(name, "2.35")).json()
    assert [k["keypair"]["name"] for k in rest["keypairs"]] == names[2:]
    assert "keypairs_links" not in rest
    fault(client.get(f"{API}/os-keypairs?marker=missing", headers=user(name, "2.35")), 400)
    fault(client.get(f"{API}/os-keypairs?limit=-1", headers=user(name, "2.35")), 400)


@needs("2.75")
def test_unknown_keypair_query_parameters_are_400_from_2_75(client):
    name = unique("u")
    (key,) = keypairs_of(client, name, 1, "2.75")
    for method, path in (("get", "os-keypairs"), ("get", f"os-keypairs/{key}"),
                         ("delete", f"os-keypairs/{key}")):
        response = getattr(client, method)(f"{API}/{path}?bogus=1", headers=user(name, "2.75"))
        assert "'bogus' was unexpected" in fault(response, 400)
    ok = client.get(f"{API}/os-keypairs?limit=5&user_id={name}", headers=user(name, "2.75"))
    assert ok.status_code == 200, ok.text


@needs("2.92")
def test_keypairs_are_imported_only_from_2_92(client):
    name = unique("u")
    generated = client.post(f"{API}/os-keypairs", json={"keypair": {"name": unique()}},
                            headers=user(name, "2.91"))
    assert generated.status_code == 201 and "private_key" in generated.json()["keypair"]
    refused = client.post(f"{API}/os-keypairs", json={"keypair": {"name": unique()}},
                          headers=user(name, "2.92"))
    assert "public_key" in fault(refused, 400)
    body = {"keypair": {"name": "me@host.example", "public_key": KEY}}
    fault(client.post(f"{API}/os-keypairs", json=body, headers=user(name, "2.91")), 400)
    created = client.post(f"{API}/os-keypairs", json=body, headers=user(name, "2.92"))
    assert created.status_code == 201, created.text
    assert created.json()["keypair"]["name"] == "me@host.example"
    assert "private_key" not in created.json()["keypair"]


# --- quotas and limits ----------------------------------------------------------------


def quota_views(client, version):
    project = unique("p")
    paths = (f"os-quota-sets/{project}", f"os-quota-sets/{project}/defaults",
             f"os-quota-sets/{project}/detail")
    sets = [client.get(f"{API}/{path}", headers=admin(version)).json()["quota_set"]
            for path in paths]
    limits = client.get(f"{API}/limits", headers=admin(version)).json()["limits"]["absolute"]
    return sets, limits


def test_quotas_keep_network_and_file_resources_at_2_25(client):
    sets, limits = quota_views(client, "2.25")
    assert all(NETWORK | FILES <= set(shown) for shown in sets)
    assert {"maxTotalFloatingIps", "maxSecurityGroups", "maxSecurityGroupRules",
            "maxImageMeta", "maxPersonality", "maxPersonalitySize",
            "totalFloatingIpsUsed", "totalSecurityGroupsUsed"} <= set(limits)


@needs("2.57")
@pytest.mark.parametrize("version,hidden,kept", [
    ("2.35", set(), NETWORK | FILES),
    ("2.36", NETWORK, FILES),
    ("2.57", NETWORK | FILES, set()),
])
def test_quota_sets_drop_resources_by_microversion(client, version, hidden, kept):
    sets, _ = quota_views(client, version)
    for shown in sets:
        assert not hidden & set(shown) and kept <= set(shown)
    for name in hidden:
        response = client.put(f"{API}/os-quota-sets/{unique('p')}", headers=admin(version),
                              json={"quota_set": {name: 5}})
        assert f"'{name}' was unexpected" in fault(response, 400)


@needs("2.57")
@pytest.mark.parametrize("version,gone", [
    ("2.35", set()),
    ("2.36", {"maxTotalFloatingIps", "maxSecurityGroups", "maxSecurityGroupRules",
              "totalFloatingIpsUsed", "totalSecurityGroupsUsed"}),
    ("2.39", {"maxImageMeta"}),
    ("2.57", {"maxPersonality", "maxPersonalitySize", "maxImageMeta"}),
])
def test_limits_drop_names_by_microversion(client, version, gone):
    _, limits = quota_views(client, version)
    assert not gone & set(limits)
    assert {"maxTotalRAMSize", "maxServerMeta", "maxTotalKeypairs"} <= set(limits)


# --- flavors --------------------------------------------------------------------------


def new_flavor(client, **fields):
    flavor = {"name": unique("f"), "ram": 256, "vcpus": 1, "disk": 1, **fields}
    response = client.post(f"{API}/flavors", json={"flavor": flavor}, headers=admin())
    assert response.status_code == 200, response.text
    return response.json()["flavor"]["id"]


def test_unset_swap_is_an_empty_string_before_2_75(client):
    flavor_id = new_flavor(client)
    shown = client.get(f"{API}/flavors/{flavor_id}", headers=admin("2.25")).json()["flavor"]
    assert shown["swap"] == ""


@needs("2.75")
def test_unset_swap_is_zero_from_2_75(client):
    flavor_id, with_swap = new_flavor(client), new_flavor(client, swap=512)
    for version, empty in (("2.74", ""), ("2.75", 0)):
        shown = client.get(f"{API}/flavors/{flavor_id}", headers=admin(version)).json()
        assert shown["flavor"]["swap"] == empty
        listed = client.get(f"{API}/flavors/detail", headers=admin(version)).json()
        swaps = {f["id"]: f["swap"] for f in listed["flavors"]}
        assert swaps[flavor_id] == empty and swaps[with_swap] == 512


def set_specs(client, flavor_id, specs, version):
    return client.post(f"{API}/flavors/{flavor_id}/os-extra_specs", headers=admin(version),
                       json={"extra_specs": specs})


def test_extra_specs_are_not_validated_before_2_86(client):
    flavor_id = new_flavor(client)
    response = set_specs(client, flavor_id, {"hw:no_such_key": "x"}, "2.25")
    assert response.status_code == 200, response.text


@needs("2.86")
@pytest.mark.parametrize("specs,message", [
    ({"hw:no_such_key": "1"}, "'hw:no_such_key' does not appear to be a valid extra spec"),
    ({"hw:cpu_policy": "sometimes"}, "must be one of dedicated, shared, mixed"),
    ({"hw:numa_nodes": "0"}, "must be at least 1"),
    ({"hw:mem_page_size": "huge"}, "'hw:mem_page_size' has an invalid value"),
    ({"quota:cpu_quota": "x"}, "expected an integer"),
    ({"resources1:NOT_A_CLASS": "1"}, "does not appear to be a valid extra spec"),
    ({"trait:HW_CPU_X86_AVX2": "maybe"}, "must be one of required, forbidden"),
])
def test_known_extra_specs_are_validated_from_2_86(client, specs, message):
    flavor_id = new_flavor(client)
    assert message in fault(set_specs(client, flavor_id, specs, "2.86"), 400)
    key, value = next(iter(specs.items()))
    put = client.put(f"{API}/flavors/{flavor_id}/os-extra_specs/{key}",
                     headers=admin("2.86"), json={key: value})
    assert message in fault(put, 400)
    listed = client.get(f"{API}/flavors/{flavor_id}/os-extra_specs", headers=admin())
    assert listed.json() == {"extra_specs": {}}


@needs("2.86")
def test_valid_and_foreign_extra_specs_pass_from_2_86(client):
    specs = {"hw:cpu_policy": "dedicated", "hw:cpu_thread_policy": "isolate",
             "hw:mem_page_size": "2MB", "hw:numa_nodes": "2", "hw:numa_cpus.0": "0-1",
             "hw:watchdog_action": "reset", "quota:disk_read_bytes_sec": "1024",
             "resources:VCPU": "2", "resources_g1:CUSTOM_MAGIC": "1",
             "trait:CUSTOM_FAST": "required", "group_policy": "isolate",
             "somebody:else": "anything", "plain_key": "anything"}
    flavor_id = new_flavor(client)
    response = set_specs(client, flavor_id, specs, "2.86")
    assert response.status_code == 200, response.text
    assert response.json() == {"extra_specs": specs}


# --- aggregate image precache ---------------------------------------------------------


def new_aggregate(client, version):
    response = client.post(f"{API}/os-aggregates", headers=admin(version),
                           json={"aggregate": {"name": unique("agg")}})
    assert response.status_code == 200, response.text
    return response.json()["aggregate"]


def cache(client, aggregate_id, body, version, headers=None):
    return client.post(f"{API}/os-aggregates/{aggregate_id}/images", json=body,
                       headers=headers or admin(version))


def test_image_precache_does_not_exist_before_2_81(client):
    aggregate = new_aggregate(client, "2.25")
    body = {"cache": [{"id": catalog.DEFAULT_IMAGE_ID}]}
    assert cache(client, aggregate["id"], body, "2.25").status_code == 404


@needs("2.81")
def test_image_precache_is_recorded_from_2_81(backend):
    client, store = backend
    aggregate = new_aggregate(client, "2.81")
    body = {"cache": [{"id": catalog.DEFAULT_IMAGE_ID}]}
    assert cache(client, aggregate["id"], body, "2.80").status_code == 404
    response = cache(client, aggregate["id"], body, "2.81")
    assert response.status_code == 202, response.text
    recorded = [env.data for env in store.load(uuid.UUID(aggregate["uuid"]))
                if env.event == "AggregateImagesCacheRequested"]
    assert [event.image_ids for event in recorded] == [[catalog.DEFAULT_IMAGE_ID]]


@needs("2.81")
def test_bad_image_precache_requests_record_nothing(backend):
    client, store = backend
    aggregate = new_aggregate(client, "2.81")
    image, missing = catalog.DEFAULT_IMAGE_ID, str(uuid.uuid4())
    assert missing in fault(cache(client, aggregate["id"],
                                  {"cache": [{"id": image}, {"id": missing}]}, "2.81"), 400)
    assert "Duplicate" in fault(cache(client, aggregate["id"],
                                      {"cache": [{"id": image}, {"id": image}]}, "2.81"), 400)
    for body in ({"cache": []}, {"cache": [{"id": "not-a-uuid"}]}, {"images": []},
                 {"cache": [{"id": image, "extra": 1}]}):
        fault(cache(client, aggregate["id"], body, "2.81"), 400)
    fault(cache(client, 999999, {"cache": [{"id": image}]}, "2.81"), 404, "itemNotFound")
    member = user(unique("u"), "2.81")
    fault(cache(client, aggregate["id"], {"cache": [{"id": image}]}, "2.81", member), 403,
          "forbidden")
    events = [env.event for env in store.load(uuid.UUID(aggregate["uuid"]))]
    assert "AggregateImagesCacheRequested" not in events
