"""The Flavor aggregate: a named size of server."""

from cloud.domain.errors import Invalid
from cloud.domain.events import Event, FlavorCreated, FlavorSpec

DEFAULT_FLAVORS = (
    FlavorSpec(flavorid="1", name="m1.tiny", vcpus=1, ram=512, disk=1),
    FlavorSpec(flavorid="2", name="m1.small", vcpus=1, ram=2048, disk=20),
    FlavorSpec(flavorid="3", name="m1.medium", vcpus=2, ram=4096, disk=40),
    FlavorSpec(flavorid="4", name="m1.large", vcpus=4, ram=8192, disk=80),
    FlavorSpec(flavorid="42", name="m1.nano", vcpus=1, ram=64, disk=1),
    FlavorSpec(flavorid="84", name="m1.micro", vcpus=1, ram=128, disk=1),
)


def create(existing: FlavorSpec | None, spec: FlavorSpec, *, is_public: bool = True,
           description: str | None = None) -> list[Event]:
    """Create a flavor; creating the very same flavor again records nothing."""
    if existing == spec:
        return []
    if existing is not None:
        raise Invalid(f"Flavor with ID {spec.flavorid} already exists.")
    if spec.vcpus < 1 or spec.ram < 1 or spec.disk < 0:
        raise Invalid("Flavor vcpus and ram must be positive and disk not negative.")
    return [FlavorCreated(flavor=spec, is_public=is_public, description=description)]


def evolve(flavor: FlavorSpec | None, event: Event) -> FlavorSpec | None:
    """Apply one recorded event."""
    return event.flavor if isinstance(event, FlavorCreated) else flavor
