"""cloud/domain stays pure: it imports nothing that does I/O or reaches other layers."""

import ast
from pathlib import Path

DOMAIN = Path(__file__).resolve().parents[2] / "cloud" / "domain"
FORBIDDEN = {"nats", "psycopg", "psycopg_pool", "libvirt", "litestar", "eventsourcing",
             "uvicorn", "asyncio", "socket", "subprocess", "requests", "httpx", "logging",
             "time", "random", "os"}
OTHER_LAYERS = ("cloud.adapters", "cloud.agents", "cloud.http", "cloud.projections",
                "cloud.services")


def imported_modules(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def test_the_domain_imports_no_io_and_no_outer_layer():
    offenders = {}
    for path in DOMAIN.rglob("*.py"):
        bad = {name for name in imported_modules(path)
               if name.split(".")[0] in FORBIDDEN or name.startswith(OTHER_LAYERS)}
        if bad:
            offenders[path.name] = sorted(bad)
    assert offenders == {}
    assert len(list(DOMAIN.rglob("*.py"))) >= 8  # the check really looked at the domain
