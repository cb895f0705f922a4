"""Pure functions rendering identity read-model rows as Keystone v3 JSON."""

import uuid
from typing import Any

from cloud.domain import identity as idm
from cloud.domain import ids
from cloud.services.auth import Validated

JSON = dict[str, Any]
Row = dict[str, Any]

V3_ID, V3_UPDATED = "v3.14", "2020-04-07T00:00:00Z"
MEDIA_TYPE = "application/vnd.openstack.identity-v3+json"
REGION = "RegionOne"
INTERFACES = ("public", "internal", "admin")
# (type, name, path under the public URL) of every service in the catalog.
SERVICES = (("compute", "nova", "/compute/v2.1"), ("identity", "keystone", "/identity"),
            ("image", "glance", "/image"))
_CATALOG_IDS = uuid.UUID("0c5f3a5e-7b0d-4c59-a6d7-65f0f3f0c7a1")


def version(v3: str) -> JSON:
    """The v3 version object (also the only entry of the version list)."""
    return {"id": V3_ID, "status": "stable", "updated": V3_UPDATED,
            "links": [{"rel": "self", "href": f"{v3}/"}],
            "media-types": [{"base": "application/json", "type": MEDIA_TYPE}]}


def domain(v3: str) -> JSON:
    return {"id": idm.DEFAULT_DOMAIN_ID, "name": idm.DEFAULT_DOMAIN_NAME,
            "description": "The default domain", "enabled": True, "tags": [], "options": {},
            "links": {"self": f"{v3}/domains/{idm.DEFAULT_DOMAIN_ID}"}}


def _domain_ref(domain_id: str) -> JSON:
    name = idm.DEFAULT_DOMAIN_NAME if domain_id == idm.DEFAULT_DOMAIN_ID else domain_id
    return {"id": domain_id, "name": name}


def project(v3: str, row: Row) -> JSON:
    return {"id": row["id"], "name": row["name"], "domain_id": row["domain_id"],
            "description": row["description"], "enabled": row["enabled"],
            "parent_id": row["domain_id"], "is_domain": False, "tags": [], "options": {},
            "links": {"self": f"{v3}/projects/{row['id']}"}}


def user(v3: str, row: Row) -> JSON:
    """A user; optional attributes appear only when set, as in Keystone."""
    body = {"id": row["id"], "name": row["name"], "domain_id": row["domain_id"],
            "enabled": row["enabled"], "password_expires_at": None, "options": {},
            "links": {"self": f"{v3}/users/{row['id']}"}}
    for optional in ("default_project_id", "email", "description"):
        if row.get(optional) is not None:
            body[optional] = row[optional]
    return body


def role(v3: str, row: Row) -> JSON:
    return {"id": row["id"], "name": row["name"], "domain_id": None, "description": None,
            "options": {}, "links": {"self": f"{v3}/roles/{row['id']}"}}


def collection(v3: str, name: str, items: list[JSON]) -> JSON:
    """A list response with Keystone's ``links``."""
    return {name: items, "links": {"self": f"{v3}/{name}", "previous": None, "next": None}}


def assignment(v3: str, row: Row, *, names: bool) -> JSON:
    """One role assignment, with names and domains when ``include_names`` was asked."""
    role_ref: JSON = {"id": row["role_id"]}
    user_ref: JSON = {"id": row["user_id"]}
    project_ref: JSON = {"id": row["project_id"]}
    if names:
        role_ref["name"] = row["role_name"]
        user_ref.update(name=row["user_name"], domain=_domain_ref(row["user_domain_id"]))
        project_ref.update(name=row["project_name"],
                           domain=_domain_ref(row["project_domain_id"]))
    link = f"{v3}/projects/{row['project_id']}/users/{row['user_id']}/roles/{row['role_id']}"
    return {"role": role_ref, "user": user_ref, "scope": {"project": project_ref},
            "links": {"assignment": link}}


def _endpoint_id(service: str, interface: str) -> str:
    return uuid.uuid5(_CATALOG_IDS, f"{service}:{interface}").hex


def catalog(public_url: str) -> list[JSON]:
    """Every service, each reachable under the one public URL."""
    return [{"type": kind, "name": name, "id": uuid.uuid5(_CATALOG_IDS, kind).hex,
             "endpoints": [{"id": _endpoint_id(kind, interface), "interface": interface,
                            "region": REGION, "region_id": REGION,
                            "url": f"{public_url}{path}"} for interface in INTERFACES]}
            for kind, name, path in SERVICES]


def token(validated: Validated, public_url: str) -> JSON:
    """The body of a token response (issue and validate alike)."""
    scope, payload = validated.scope, validated.payload
    return {"token": {
        "methods": payload.methods, "expires_at": _keystone_time(payload.expires_at),
        "issued_at": _keystone_time(payload.issued_at), "audit_ids": [payload.audit_id],
        "user": {"id": scope["user_id"], "name": scope["user_name"],
                 "domain": _domain_ref(scope["user_domain_id"]),
                 "password_expires_at": None},
        "project": {"id": scope["project_id"], "name": scope["project_name"],
                    "domain": _domain_ref(scope["project_domain_id"])},
        "is_domain": False,
        "roles": [{"id": ids.role_id(name), "name": name} for name in payload.roles],
        "catalog": catalog(public_url),
    }}


def _keystone_time(iso: str) -> str:
    """Keystone writes ``2026-11-24T06:02:14.000000Z``."""
    return iso.replace("+00:00", "Z") if "." in iso else iso.replace("+00:00", ".000000Z")
