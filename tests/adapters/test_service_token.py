"""The compute agent's login (cloud/adapters/service_token.py) against a real ``cloud api``
process: a project-scoped token, kept while it is fresh, renewed before it expires."""

import datetime as dt
import secrets
import urllib.error

import httpx
import pytest

from cloud.adapters.embedded import free_port, port_is_open
from cloud.adapters.service_token import ServiceCredentialsMissing, ServiceToken
from cloud.manage import db_sync
from tests.agents.test_boot_flow import wait_until

LIFETIME = 600  # seconds; renewal starts 5 minutes before expiry


@pytest.fixture
def identity(make_database, processes):
    database_url, password = make_database(schema=False), secrets.token_urlsafe(12)
    db_sync(database_url, passwords={"admin": password})
    port = free_port()
    processes.start("api", "api", "--port", str(port), "--token-lifetime", str(LIFETIME),
                    env={"CLOUD_DATABASE_URL": database_url})
    wait_until(lambda: port_is_open("127.0.0.1", port), timeout=60)
    return f"http://127.0.0.1:{port}/identity", password


def test_a_token_is_kept_while_fresh_and_renewed_before_it_expires(identity):
    url, password = identity
    clock = [dt.datetime.now(dt.UTC)]
    token = ServiceToken(url, user="admin", password=password, project="admin",
                         now=lambda: clock[0])
    first = token()
    assert token() == first  # fresh: no second login
    shown = httpx.get(f"{url}/v3/auth/tokens",
                      headers={"X-Auth-Token": first, "X-Subject-Token": first})
    assert shown.status_code == 200
    assert shown.json()["token"]["project"]["name"] == "admin"
    clock[0] += dt.timedelta(seconds=LIFETIME - 200)  # within 5 minutes of expiry
    assert token() != first


def test_wrong_credentials_fail_loudly(identity):
    url, _ = identity
    with pytest.raises(urllib.error.HTTPError) as raised:
        ServiceToken(url, user="admin", password="wrong", project="admin")()
    assert raised.value.code == 401


def test_missing_configuration_names_what_is_missing():
    with pytest.raises(ServiceCredentialsMissing, match="CLOUD_SERVICE_PASSWORD"):
        ServiceToken.from_env({"CLOUD_IDENTITY_URL": "http://x/identity",
                               "CLOUD_SERVICE_USER": "nova"})
