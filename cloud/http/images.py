"""Glance v2 (minimal) under ``/image``: filled in by the image work."""

ROUTERS: list = []
