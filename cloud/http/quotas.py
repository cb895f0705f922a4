"""``/os-quota-sets`` and ``/limits``: filled in by the quota work."""

HANDLERS: list = []
