"""``/os-keypairs`` over HTTP against a real PostgreSQL log and read models: Nova's
fingerprints, generated keys, uniqueness per user, and the 2.1 / 2.2 / 2.10 differences."""

import base64
import hashlib
import re
import shutil
import subprocess
import uuid

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.serialization import pkcs12
from litestar.testing import TestClient

from cloud.adapters.eventstore import EventStore
from cloud.http.app import create_app
from cloud.http.context import NoAuth
from cloud.projections import projector
from cloud.projections.queries import ReadModels
from cloud.services import catalog, keygen

API = "/compute/v2.1"
KEY = ("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJ//fUbguOmPyHCrIfQKTnwfWriT5iifiUZjrSLZB0Ga"
       " test@cloud")
KEY_MD5 = "c6:82:dd:46:77:7c:97:00:be:e1:51:43:b3:8f:17:41"  # ssh-keygen -l -E md5
DETAIL_FIELDS = {"name", "public_key", "fingerprint", "user_id", "id", "created_at",
                 "updated_at", "deleted", "deleted_at"}


@pytest.fixture(scope="module")
def client(databases):
    url = databases.make()
    store, read_models = EventStore(url), ReadModels(url)
    app = create_app(store=store, read_models=read_models, authenticator=NoAuth())
    with projector.in_background(url), TestClient(app) as client:
        yield client
    read_models.close()
    store.close()


def user(name, *, version="2.1", roles="member,reader", project=None):
    """The NoAuth headers of a user (in a project of their own unless told)."""
    return {"X-Auth-User": name, "X-Auth-Project-Id": project or f"project-{name}",
            "X-Roles": roles, "OpenStack-API-Version": f"compute {version}"}


def admin(version="2.1"):
    return user("admin", version=version, roles="admin,member,reader", project="admin")


def unique(prefix="k"):
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def create(client, headers, **keypair):
    return client.post(f"{API}/os-keypairs", json={"keypair": keypair}, headers=headers)


def assert_fault(response, status, name, message=None):
    assert response.status_code == status, response.text
    assert list(response.json()) == [name]
    if message is not None:
        assert response.json()[name]["message"] == message


# --- import and fingerprints ----------------------------------------------------------


def independent_md5(public_key: str) -> str:
    """The fingerprint by ssh-keygen when present, else by hashing the key blob."""
    if shutil.which("ssh-keygen"):
        out = subprocess.run(["ssh-keygen", "-l", "-E", "md5", "-f", "-"], check=True,
                             input=public_key, capture_output=True, text=True).stdout
        return out.split()[1].removeprefix("MD5:")
    digest = hashlib.md5(base64.b64decode(public_key.split()[1])).hexdigest()
    return ":".join(re.findall("..", digest))


def test_import_at_2_1_answers_200_with_novas_fingerprint(client):
    name = unique()
    response = create(client, user("alice"), name=name, public_key=KEY)
    assert response.status_code == 200
    assert response.json() == {"keypair": {"name": name, "public_key": KEY,
                                           "fingerprint": KEY_MD5, "user_id": "alice"}}
    assert independent_md5(KEY) == KEY_MD5


def test_import_at_2_2_answers_201_with_the_type(client):
    name = unique()
    response = create(client, user("alice", version="2.2"), name=name, public_key=KEY)
    assert response.status_code == 201
    assert response.json()["keypair"] == {"name": name, "public_key": KEY, "type": "ssh",
                                          "fingerprint": KEY_MD5, "user_id": "alice"}


def test_list_and_show_fields_by_microversion(client):
    name = unique()
    create(client, user("lister"), name=name, public_key=KEY)
    for version, typed in (("2.1", False), ("2.2", True), ("2.10", True)):
        listed = client.get(f"{API}/os-keypairs", headers=user("lister", version=version))
        expected = {"name": name, "public_key": KEY, "fingerprint": KEY_MD5}
        assert listed.json() == {"keypairs": [
            {"keypair": {**expected, "type": "ssh"} if typed else expected}]}
        shown = client.get(f"{API}/os-keypairs/{name}",
                           headers=user("lister", version=version)).json()["keypair"]
        assert set(shown) == DETAIL_FIELDS | ({"type"} if typed else set())
        assert (shown["deleted"], shown["deleted_at"], shown["updated_at"]) == (False, None,
                                                                                None)
        assert isinstance(shown["id"], int) and shown["user_id"] == "lister"
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}", shown["created_at"])


def test_imported_x509_certificate_has_novas_sha1_fingerprint(client):
    _, certificate = keygen.generate_x509("someone")
    cert = x509.load_pem_x509_certificate(certificate.encode())
    expected = ":".join(f"{b:02x}" for b in hashlib.sha1(
        cert.public_bytes(serialization.Encoding.DER)).digest())
    response = create(client, user("alice", version="2.2"), name=unique(),
                      public_key=certificate, type="x509")
    assert response.status_code == 201
    assert response.json()["keypair"]["fingerprint"] == expected
    assert response.json()["keypair"]["type"] == "x509"


# --- generated keys -------------------------------------------------------------------


def test_generated_ssh_key_is_usable(client):
    response = create(client, user("gen", version="2.2"), name=unique())
    assert response.status_code == 201
    body = response.json()["keypair"]
    private = serialization.load_pem_private_key(body["private_key"].encode(), None)
    public = private.public_key().public_bytes(serialization.Encoding.OpenSSH,
                                               serialization.PublicFormat.OpenSSH).decode()
    assert body["public_key"].startswith(public + " ")
    assert body["fingerprint"] == independent_md5(body["public_key"])
    signature = private.sign(b"hello", *_rsa_padding())
    serialization.load_ssh_public_key(body["public_key"].encode()).verify(
        signature, b"hello", *_rsa_padding())
    shown = client.get(f"{API}/os-keypairs/{body['name']}", headers=user("gen")).json()
    assert "private_key" not in shown["keypair"]


def _rsa_padding():
    from cryptography.hazmat.primitives.asymmetric import padding
    return padding.PKCS1v15(), hashes.SHA256()


def test_generated_x509_key_is_a_certificate_and_its_pkcs12(client):
    body = create(client, user("winrm", version="2.2"), name=unique(),
                  type="x509").json()["keypair"]
    cert = x509.load_pem_x509_certificate(body["public_key"].encode())
    assert cert.subject.rfc4514_string() == "CN=winrm"
    key, bundled, _ = pkcs12.load_key_and_certificates(
        base64.b64decode(body["private_key"]), None)
    assert bundled == cert and key.public_key() == cert.public_key()
    assert body["fingerprint"] == ":".join(f"{b:02x}" for b in cert.fingerprint(hashes.SHA1()))


# --- refusals -------------------------------------------------------------------------


def test_a_name_is_unique_per_user(client):
    name = unique()
    assert create(client, user("alice"), name=name, public_key=KEY).status_code == 200
    assert_fault(create(client, user("alice"), name=name, public_key=KEY), 409,
                 "conflictingRequest", f"Key pair '{name}' already exists.")
    assert create(client, user("bob"), name=name, public_key=KEY).status_code == 200


@pytest.mark.parametrize("version, keypair", [
    ("2.1", {"name": "ok", "public_key": "ssh-rsa not-base64!"}),
    ("2.1", {"name": "ok", "public_key": "garbage"}),
    ("2.1", {"name": "ok", "public_key": ""}),
    ("2.2", {"name": "ok", "public_key": KEY, "type": "x509"}),
    ("2.1", {"name": "bad/name", "public_key": KEY}),
    ("2.1", {"name": "", "public_key": KEY}),
    ("2.1", {"name": " padded", "public_key": KEY}),
    ("2.1", {"name": "x" * 256, "public_key": KEY}),
    ("2.1", {"name": "ok", "public_key": KEY, "type": "ssh"}),
    ("2.9", {"name": "ok", "public_key": KEY, "user_id": "alice"}),
    ("2.2", {"name": "ok", "public_key": KEY, "type": "rsa"}),
    ("2.1", {"name": "ok", "public_key": KEY, "bogus": 1}),
    ("2.1", {"public_key": KEY}),
])
def test_invalid_requests_are_400(client, version, keypair):
    assert_fault(create(client, user("alice", version=version), **keypair), 400, "badRequest")


def test_invalid_public_key_message_is_novas(client):
    assert_fault(create(client, user("alice"), name=unique(), public_key="ssh-rsa AAAA"),
                 400, "badRequest", "Keypair data is invalid: failed to generate fingerprint")


def test_another_users_key_pair_is_not_found(client):
    name = unique()
    create(client, user("owner"), name=name, public_key=KEY)
    assert_fault(client.get(f"{API}/os-keypairs/{name}", headers=user("thief")), 404,
                 "itemNotFound", f"Keypair {name} not found for user thief")
    assert_fault(client.delete(f"{API}/os-keypairs/{name}", headers=user("thief")), 404,
                 "itemNotFound")
    assert client.get(f"{API}/os-keypairs", headers=user("thief")).json() == {"keypairs": []}


def test_delete_is_202_before_2_2_and_204_after(client):
    old, new = unique(), unique()
    create(client, user("carol"), name=old, public_key=KEY)
    create(client, user("carol"), name=new, public_key=KEY)
    response = client.delete(f"{API}/os-keypairs/{old}", headers=user("carol"))
    assert response.status_code == 202 and response.content == b""
    response = client.delete(f"{API}/os-keypairs/{new}", headers=user("carol", version="2.2"))
    assert response.status_code == 204 and response.content == b""
    assert_fault(client.get(f"{API}/os-keypairs/{old}", headers=user("carol")), 404,
                 "itemNotFound")
    assert create(client, user("carol"), name=old, public_key=KEY).status_code == 200


def test_names_with_spaces_work_in_paths(client):
    create(client, user("dave"), name="my key", public_key=KEY)
    shown = client.get(f"{API}/os-keypairs/my%20key", headers=user("dave"))
    assert shown.status_code == 200 and shown.json()["keypair"]["name"] == "my key"


# --- 2.10: admins and other users -----------------------------------------------------


def test_admin_acts_for_another_user_from_2_10(client):
    name = unique()
    response = create(client, admin("2.10"), name=name, public_key=KEY, user_id="erin")
    assert response.status_code == 201 and response.json()["keypair"]["user_id"] == "erin"
    assert [k["keypair"]["name"] for k in client.get(
        f"{API}/os-keypairs", headers=user("erin")).json()["keypairs"]] == [name]
    listed = client.get(f"{API}/os-keypairs", params={"user_id": "erin"},
                        headers=admin("2.10")).json()["keypairs"]
    assert [k["keypair"]["name"] for k in listed] == [name]
    # Before 2.10 the parameter is not heard: the admin sees their own key pairs.
    assert client.get(f"{API}/os-keypairs", params={"user_id": "erin"},
                      headers=admin("2.9")).json()["keypairs"] == []
    shown = client.get(f"{API}/os-keypairs/{name}", params={"user_id": "erin"},
                       headers=admin("2.10")).json()["keypair"]
    assert shown["user_id"] == "erin"
    deleted = client.delete(f"{API}/os-keypairs/{name}", params={"user_id": "erin"},
                            headers=admin("2.10"))
    assert deleted.status_code == 204
    assert client.get(f"{API}/os-keypairs", headers=user("erin")).json() == {"keypairs": []}


def test_non_admins_may_not_name_another_user(client):
    policy = "Policy doesn't allow os_compute_api:os-keypairs:{} to be performed."
    assert_fault(create(client, user("frank", version="2.10"), name=unique(),
                        public_key=KEY, user_id="erin"), 403, "forbidden",
                 policy.format("create"))
    assert_fault(client.get(f"{API}/os-keypairs", params={"user_id": "erin"},
                            headers=user("frank", version="2.10")), 403, "forbidden",
                 policy.format("index"))
    mine = create(client, user("frank", version="2.10"), name=unique(), public_key=KEY,
                  user_id="frank")
    assert mine.status_code == 201


# --- servers and quotas ---------------------------------------------------------------


def boot(client, headers, **fields):
    body = {"server": {"name": unique("vm"), "imageRef": catalog.DEFAULT_IMAGE_ID,
                       "flavorRef": "1", **fields}}
    return client.post(f"{API}/servers", json=body, headers=headers)


def test_servers_boot_only_with_the_callers_key_pair(client):
    name = unique()
    create(client, user("gina"), name=name, public_key=KEY)
    assert_fault(boot(client, user("gina"), key_name="missing"), 400, "badRequest",
                 "Invalid key_name provided.")
    assert_fault(boot(client, user("hank"), key_name=name), 400, "badRequest",
                 "Invalid key_name provided.")
    response = boot(client, user("gina"), key_name=name)
    assert response.status_code == 202
    server_id = response.json()["server"]["id"]
    shown = client.get(f"{API}/servers/{server_id}", headers=user("gina")).json()["server"]
    assert shown["key_name"] == name


def test_key_pairs_count_against_the_quota(client):
    limited = user("ivan", project="few-keys")
    quota = {"quota_set": {"key_pairs": 1}}
    assert client.put(f"{API}/os-quota-sets/few-keys", json=quota,
                      headers=admin()).status_code == 200
    assert create(client, limited, name=unique(), public_key=KEY).status_code == 200
    assert_fault(create(client, limited, name=unique(), public_key=KEY), 403, "forbidden",
                 "Quota exceeded, too many key pairs.")
