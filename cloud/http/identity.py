"""Keystone v3 (minimal) under ``/identity``: filled in by the identity work."""

ROUTERS: list = []
