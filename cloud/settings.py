"""Where each process finds the database and NATS: environment first, flags override."""

import os

import msgspec


class Settings(msgspec.Struct, kw_only=True):
    database_url: str
    nats_url: str
    nats_user: str | None = None
    nats_password: str | None = None
    # Seconds between a compute agent's full power-state reports (CLOUD_POWER_SYNC_EVERY).
    power_sync_every: float = 30.0

    @classmethod
    def from_env(cls, **overrides: str | None) -> "Settings":
        """Read ``CLOUD_DATABASE_URL``, ``CLOUD_NATS_URL``, ``CLOUD_NATS_USER/PASSWORD``."""
        values = {
            "database_url": os.environ.get("CLOUD_DATABASE_URL",
                                           "postgresql://postgres@127.0.0.1:5432/postgres"),
            "nats_url": os.environ.get("CLOUD_NATS_URL", "nats://127.0.0.1:4222"),
            "nats_user": os.environ.get("CLOUD_NATS_USER") or None,
            "nats_password": os.environ.get("CLOUD_NATS_PASSWORD") or None,
        }
        values.update({k: v for k, v in overrides.items() if v is not None})
        sync = os.environ.get("CLOUD_POWER_SYNC_EVERY")
        return cls(**values, power_sync_every=float(sync) if sync else 30.0)
