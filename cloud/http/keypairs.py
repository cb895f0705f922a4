"""``/os-keypairs``: filled in by the keypair work."""

HANDLERS: list = []
