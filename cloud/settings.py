"""Where each process finds the database and NATS: environment first, flags override."""

import os

import msgspec

# Nova's [image_cache] manager_interval and remove_unused_original_minimum_age_seconds.
IMAGE_CACHE_EVERY = 2400.0
UNUSED_IMAGE_AGE = 86400.0


class Settings(msgspec.Struct, kw_only=True):
    database_url: str
    nats_url: str
    nats_user: str | None = None
    nats_password: str | None = None
    # Seconds between a compute agent's full power-state reports (CLOUD_POWER_SYNC_EVERY).
    power_sync_every: float = 30.0
    # A compute agent's allocation ratios for its host, as Nova's cpu_allocation_ratio,
    # ram_allocation_ratio and disk_allocation_ratio options (CLOUD_CPU_ALLOCATION_RATIO,
    # CLOUD_RAM_ALLOCATION_RATIO, CLOUD_DISK_ALLOCATION_RATIO); unset: the scheduler's.
    allocation_ratios: dict[str, float] = {}
    # Seconds between a compute agent's prunes of its base image cache, and how long a
    # base must have gone unused to be removed (CLOUD_IMAGE_CACHE_EVERY,
    # CLOUD_UNUSED_IMAGE_AGE; Nova's manager_interval and
    # remove_unused_original_minimum_age_seconds, as above).
    image_cache_every: float = IMAGE_CACHE_EVERY
    unused_image_age: float = UNUSED_IMAGE_AGE

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
        return cls(**values, power_sync_every=seconds("CLOUD_POWER_SYNC_EVERY", 30.0),
                   allocation_ratios=allocation_ratios(os.environ),
                   image_cache_every=seconds("CLOUD_IMAGE_CACHE_EVERY", IMAGE_CACHE_EVERY),
                   unused_image_age=seconds("CLOUD_UNUSED_IMAGE_AGE", UNUSED_IMAGE_AGE))


def seconds(variable: str, default: float) -> float:
    """A duration from the environment; a bad one stops the process, naming it."""
    raw = os.environ.get(variable, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if not 0 <= value < float("inf"):
        raise SystemExit(f"{variable} must be a number of seconds, not {raw!r}")
    return value


RATIO_VARIABLES = {"cpu_allocation_ratio": "CLOUD_CPU_ALLOCATION_RATIO",
                   "ram_allocation_ratio": "CLOUD_RAM_ALLOCATION_RATIO",
                   "disk_allocation_ratio": "CLOUD_DISK_ALLOCATION_RATIO"}


def allocation_ratios(env: dict[str, str] | os._Environ) -> dict[str, float]:
    """The allocation ratios set in the environment; a bad value stops the agent with a
    message naming the variable, rather than registering a host nobody can use."""
    found = {}
    for name, variable in RATIO_VARIABLES.items():
        raw = env.get(variable, "").strip()
        if not raw:
            continue
        try:
            value = float(raw)
        except ValueError:
            value = 0.0
        if not value > 0 or value == float("inf"):
            raise SystemExit(f"{variable} must be a positive number, not {raw!r}")
        found[name] = value
    return found
