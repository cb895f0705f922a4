"""Server fields and filters appear exactly at their microversion (2.3, 2.5, 2.9, 2.16,
2.19), against a real PostgreSQL log and read models."""

import base64
import datetime as dt
import re

import psycopg
import pytest
from litestar.testing import TestClient

from cloud.adapters.eventstore import EventStore
from cloud.domain import instance
from cloud.domain.envelope import Actor, Context
from cloud.domain.flavor import DEFAULT_FLAVORS
from cloud.http import microversions
from cloud.http.app import create_app
from cloud.http.context import NoAuth
from cloud.projections import projector
from cloud.projections.queries import ReadModels
from cloud.services import catalog, conductor, hosts, instances
from cloud.util import utcnow

API = "/compute/v2.1"
EXTENDED_2_3 = {"OS-EXT-SRV-ATTR:reservation_id", "OS-EXT-SRV-ATTR:launch_index",
                "OS-EXT-SRV-ATTR:hostname", "OS-EXT-SRV-ATTR:kernel_id",
                "OS-EXT-SRV-ATTR:ramdisk_id", "OS-EXT-SRV-ATTR:root_device_name",
                "OS-EXT-SRV-ATTR:user_data"}
LATER = {"locked", "host_status", "description"}


@pytest.fixture(scope="module")
def cloud(databases):
    url = databases.make()
    store, read_models = EventStore(url), ReadModels(url)
    app = create_app(store=store, read_models=read_models, authenticator=NoAuth())
    with projector.in_background(url), TestClient(app) as client:
        yield client, store, url, read_models
    read_models.close()
    store.close()


def headers(version, *, admin=False, project="mv"):
    return {"X-Auth-User": "admin" if admin else "user", "X-Auth-Project-Id": project,
            "X-Roles": "admin,member,reader" if admin else "member,reader",
            "OpenStack-API-Version": f"compute {version}"}


def boot(client, name="My Web_Server.1", version="2.1", **fields):
    body = {"server": {"name": name, "imageRef": catalog.DEFAULT_IMAGE_ID, "flavorRef": "1",
                       **fields}}
    response = client.post(f"{API}/servers", json=body, headers=headers(version))
    assert response.status_code == 202, response.text
    return response.json()["server"]["id"]


def show(client, server_id, version, *, admin=False):
    response = client.get(f"{API}/servers/{server_id}", headers=headers(version, admin=admin))
    assert response.status_code == 200
    assert response.headers["x-openstack-nova-api-version"] == version
    return response.json()["server"]


def test_2_1_shows_none_of_the_later_fields(cloud):
    client = cloud[0]
    server = show(client, boot(client), "2.1", admin=True)
    assert not (EXTENDED_2_3 | LATER) & set(server)
    assert "OS-EXT-SRV-ATTR:host" in server


def test_2_3_extended_attributes_for_admins_only(cloud):
    client = cloud[0]
    user_data = base64.b64encode(b"#cloud-config\n").decode()
    server_id = boot(client, user_data=user_data)
    assert not EXTENDED_2_3 & set(show(client, server_id, "2.2", admin=True))
    assert not EXTENDED_2_3 & set(show(client, server_id, "2.3"))
    server = show(client, server_id, "2.3", admin=True)
    assert re.fullmatch(r"r-[0-9a-z]{8}", server["OS-EXT-SRV-ATTR:reservation_id"])
    assert server["OS-EXT-SRV-ATTR:hostname"] == "my-web-server-1"
    assert server["OS-EXT-SRV-ATTR:launch_index"] == 0
    assert server["OS-EXT-SRV-ATTR:user_data"] == user_data
    assert (server["OS-EXT-SRV-ATTR:kernel_id"], server["OS-EXT-SRV-ATTR:ramdisk_id"],
            server["OS-EXT-SRV-ATTR:root_device_name"]) == ("", "", None)
    assert not LATER & set(server)


@pytest.mark.parametrize("name, hostname", [
    ("web-1", "web-1"), ("A B_C.d", "a-b-c-d"), ("..-x-..", "x"), ("é!#ok", "éok"),
    ("x" * 70, "x" * 63),
])
def test_hostnames_are_sanitized_as_nova_does(name, hostname):
    assert instance.hostname(name) == hostname


def test_an_unusable_name_falls_back_to_the_server_id():
    (requested,) = instance.request("abc", name="!!!", project_id="p", user_id="u",
                                    flavor=DEFAULT_FLAVORS[0], image_ref="i")
    assert requested.hostname == "Server-abc"


def test_2_9_locked_in_show_and_detail_list(cloud):
    client = cloud[0]
    server_id = boot(client)
    assert "locked" not in show(client, server_id, "2.8")
    assert show(client, server_id, "2.9")["locked"] is False
    listed = client.get(f"{API}/servers/detail", headers=headers("2.9")).json()["servers"]
    assert all(server["locked"] is False for server in listed)


def test_2_16_host_status_for_admins(cloud):
    client, store, url, read_models = cloud
    server_id = boot(client)
    assert "host_status" not in show(client, server_id, "2.15", admin=True)
    assert "host_status" not in show(client, server_id, "2.16")
    assert show(client, server_id, "2.16", admin=True)["host_status"] == ""
    context = Context(actor=Actor(agent="test"), timestamp=utcnow())
    hosts.register(store, "mv-host", context=context, hypervisor_type="QEMU",
                   hypervisor_hostname="mv-host", vcpus=4, memory_mb=4096, disk_gb=40)
    with psycopg.connect(url, autocommit=True) as conn:
        conductor.record_heartbeat(conn, "mv-host", "nova-compute", utcnow())
        positions = instances.schedule(store, server_id, host_name="mv-host",
                                       context=context)
        read_models.wait_for(max(positions))
        assert show(client, server_id, "2.16", admin=True)["host_status"] == "UP"
        long_ago = (dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5)).isoformat()
        conductor.record_heartbeat(conn, "mv-host", "nova-compute", long_ago)
    assert show(client, server_id, "2.16", admin=True)["host_status"] == "UNKNOWN"


def test_2_19_description(cloud):
    client = cloud[0]
    plain = boot(client, version="2.19")
    described = boot(client, version="2.19", description="the web tier")
    assert show(client, plain, "2.19")["description"] is None
    assert show(client, described, "2.19")["description"] == "the web tier"
    assert "description" not in show(client, described, "2.18")
    body = {"server": {"name": "x", "imageRef": catalog.DEFAULT_IMAGE_ID, "flavorRef": "1",
                       "description": "too early"}}
    response = client.post(f"{API}/servers", json=body, headers=headers("2.18"))
    assert response.status_code == 400 and "description" in response.text
    body["server"]["description"] = "bad\x07bell"
    assert client.post(f"{API}/servers", json=body,
                       headers=headers("2.19")).status_code == 400


def test_2_5_ip6_filter_for_everyone(cloud):
    client = cloud[0]
    boot(client, name="filtered")

    def names(version, admin=False, **params):
        response = client.get(f"{API}/servers", params={"name": "^filtered$", **params},
                              headers=headers(version, admin=admin))
        return [server["name"] for server in response.json()["servers"]]
    # No server has a fixed address yet, so an address filter matches none.
    assert names("2.4", ip6="::1") == ["filtered"]  # not heard before 2.5
    assert names("2.5", ip6="::1") == []
    assert names("2.1", admin=True, ip6="::1", all_tenants="1") == []
    assert names("2.1", ip="10.0.0.1") == []


def test_latest_is_the_maximum(cloud):
    client = cloud[0]
    response = client.get(f"{API}/servers", headers={"OpenStack-API-Version": "compute latest"})
    assert response.headers["openstack-api-version"] == \
        f"compute {microversions.MAX_VERSION}"
    assert microversions.MAX_VERSION == microversions.APIVersion(2, 81)
