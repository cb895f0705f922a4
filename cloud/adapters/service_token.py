"""The compute agent's own identity: a project-scoped token from its service credentials.

The agent has no database access, so it logs in like any client (``POST
/identity/v3/auth/tokens`` with a password) and renews the token a while before it
expires; ``HttpImages`` calls it for every request. Configured from the environment:
``CLOUD_IDENTITY_URL`` (e.g. ``http://api:8774/identity``), ``CLOUD_SERVICE_USER``,
``CLOUD_SERVICE_PASSWORD``, ``CLOUD_SERVICE_PROJECT`` (default ``service``).
"""

import datetime as dt
import json
import threading
import urllib.request
from collections.abc import Callable, Mapping

RENEW_BEFORE = dt.timedelta(minutes=5)  # a token this close to expiry is replaced
ENV = ("CLOUD_IDENTITY_URL", "CLOUD_SERVICE_USER", "CLOUD_SERVICE_PASSWORD")


class ServiceCredentialsMissing(Exception):
    """The environment does not say how the agent logs in."""


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class ServiceToken:
    """Callable: a valid ``X-Auth-Token``, fetched on first use and renewed near expiry."""

    def __init__(self, identity_url: str, *, user: str, password: str, project: str,
                 domain: str = "Default", timeout: float = 30.0,
                 now: Callable[[], dt.datetime] = _utcnow) -> None:
        self.url = identity_url.rstrip("/") + "/v3/auth/tokens"
        self.user, self.password, self.project, self.domain = user, password, project, domain
        self.timeout, self.now = timeout, now
        self._token: str | None = None
        self._expires = dt.datetime.min.replace(tzinfo=dt.UTC)
        self._lock = threading.Lock()  # image fetches run in worker threads

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> "ServiceToken":
        missing = [name for name in ENV if not env.get(name)]
        if missing:
            raise ServiceCredentialsMissing(
                f"fetching images needs {', '.join(missing)} in the environment")
        return cls(env["CLOUD_IDENTITY_URL"], user=env["CLOUD_SERVICE_USER"],
                   password=env["CLOUD_SERVICE_PASSWORD"],
                   project=env.get("CLOUD_SERVICE_PROJECT") or "service")

    def __call__(self) -> str:
        with self._lock:
            if self._token is None or self.now() >= self._expires - RENEW_BEFORE:
                self._token, self._expires = self._issue()
            return self._token

    def _request_body(self) -> bytes:
        domain = {"name": self.domain}
        return json.dumps({"auth": {
            "identity": {"methods": ["password"], "password": {"user": {
                "name": self.user, "domain": domain, "password": self.password}}},
            "scope": {"project": {"name": self.project, "domain": domain}}}}).encode()

    def _issue(self) -> tuple[str, dt.datetime]:
        request = urllib.request.Request(self.url, data=self._request_body(), method="POST",
                                         headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310
            token = response.headers["X-Subject-Token"]
            expires = json.load(response)["token"]["expires_at"]
        return token, dt.datetime.fromisoformat(expires.replace("Z", "+00:00"))
