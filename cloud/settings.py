"""Where each process finds the database and NATS: environment first, flags override."""

import os

import msgspec


class Settings(msgspec.Struct, kw_only=True):
    database_url: str
    nats_url: str
    nats_user: str | None = None
    nats_password: str | None = None

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
        return cls(**values)
