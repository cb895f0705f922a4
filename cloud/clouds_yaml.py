"""The ``clouds.yaml`` that ``cloud up`` writes, so openstacksdk and the ``openstack`` CLI
log in with ``OS_CLOUD=admin`` or ``OS_CLOUD=demo``."""

import json
from pathlib import Path

MARKER = "# written by `cloud up`"


def _quoted(value: str) -> str:
    # A JSON string is a valid YAML double-quoted scalar, whatever it holds.
    return json.dumps(value)


def render(auth_url: str, passwords: dict[str, str]) -> str:
    """Clouds ``admin`` and ``demo`` (user and project of the same name, in Default)."""
    lines = [MARKER + "; rewritten on every run", "clouds:"]
    for name in ("admin", "demo"):
        lines += [
            f"  {name}:",
            "    auth:",
            f"      auth_url: {_quoted(auth_url)}",
            f"      username: {_quoted(name)}",
            f"      password: {_quoted(passwords[name])}",
            f"      project_name: {_quoted(name)}",
            "      user_domain_name: Default",
            "      project_domain_name: Default",
            "    region_name: RegionOne",
            "    identity_api_version: 3",
        ]
    return "\n".join(lines) + "\n"


def write(paths: list[Path], text: str) -> list[Path]:
    """Write the file where asked, but never over a clouds.yaml someone else wrote;
    returns where it was written."""
    written = []
    for path in paths:
        if path.exists() and not path.read_text().startswith(MARKER):
            print(f"  not overwriting {path}: it was not written by `cloud up`", flush=True)
            continue
        path.write_text(text)
        path.chmod(0o600)  # it holds passwords
        written.append(path)
    return written
