"""Small helpers for the edges (the domain gets its time passed in)."""

import datetime as dt


def utcnow() -> str:
    """Now, as the ISO 8601 UTC timestamp events carry."""
    return dt.datetime.now(dt.UTC).isoformat()
