"""Compute API microversions: which one a request asks for, and the headers that say so.

Raise ``MAX_VERSION`` only once every field and behaviour of the new version is served.
"""

import re
from collections.abc import Mapping
from typing import Any, NamedTuple

from cloud.http.faults import BadRequest, NotAcceptable

SERVICE = "compute"
HEADER = "OpenStack-API-Version"
LEGACY_HEADER = "X-OpenStack-Nova-API-Version"
VARY = f"{HEADER}, {LEGACY_HEADER}"
STATE_KEY = "compute_api_version"

_FORMAT = re.compile(r"^([1-9]\d*)\.(0|[1-9]\d*)$")


class APIVersion(NamedTuple):
    major: int
    minor: int

    def __str__(self) -> str:
        return f"{self.major}.{self.minor}"


MIN_VERSION = APIVersion(2, 1)
# Served up to 2.81: docs/microversions.md lists every version from 2.26 with what it
# changes here, or why it does not apply (volumes, migrations, shelve, rescue, … are not
# served).
MAX_VERSION = APIVersion(2, 81)
DEFAULT_VERSION = MIN_VERSION


def _requested_string(headers: Mapping[str, str]) -> str | None:
    """The version string asked for; the standard header wins over the legacy one."""
    for item in (headers.get(HEADER) or "").split(","):
        service, _, version = item.strip().partition(" ")
        if service.lower() == SERVICE:
            return version.strip()
    return headers.get(LEGACY_HEADER)


def parse(text: str) -> APIVersion:
    """``"2.61"`` or ``"latest"`` as a version; 400 when malformed."""
    if text.strip().lower() == "latest":
        return MAX_VERSION
    match = _FORMAT.match(text.strip())
    if match is None:
        raise BadRequest(f"API Version String {text} is of invalid format. Must be of"
                         " format MajorNum.MinorNum.")
    return APIVersion(int(match.group(1)), int(match.group(2)))


def requested(headers: Mapping[str, str]) -> APIVersion:
    """The version a request asks for (2.1 if none); 406 when outside what we serve."""
    text = _requested_string(headers)
    if text is None:
        return DEFAULT_VERSION
    version = parse(text)
    if not MIN_VERSION <= version <= MAX_VERSION:
        raise NotAcceptable(f"Version {version} is not supported by the API. Minimum is"
                            f" {MIN_VERSION} and maximum is {MAX_VERSION}.")
    return version


def negotiated(scope: Mapping[str, Any]) -> APIVersion:
    """The version recorded for this request, or the default when none was recorded."""
    return scope.get("state", {}).get(STATE_KEY, DEFAULT_VERSION)


def response_headers(version: APIVersion) -> dict[str, str]:
    return {HEADER: f"{SERVICE} {version}", LEGACY_HEADER: str(version), "Vary": VARY}
