"""The Flavor aggregate: a named size of server, its extra specs and who may use it.

A flavor's id is its stream (``ids.flavor_stream``); its name is unique too, reserved on
a name index stream in the same save (``claim_name``), so two creates cannot both win.
A deleted flavor's stream may start over with a new ``FlavorCreated``.
"""

import msgspec

from cloud.domain import events as ev
from cloud.domain.errors import DomainError, Duplicate, Invalid, NotFound
from cloud.domain.events import Event, FlavorSpec
from cloud.domain.identity import NameIndex

DEFAULT_FLAVORS = (
    FlavorSpec(flavorid="1", name="m1.tiny", vcpus=1, ram=512, disk=1),
    FlavorSpec(flavorid="2", name="m1.small", vcpus=1, ram=2048, disk=20),
    FlavorSpec(flavorid="3", name="m1.medium", vcpus=2, ram=4096, disk=40),
    FlavorSpec(flavorid="4", name="m1.large", vcpus=4, ram=8192, disk=80),
    FlavorSpec(flavorid="42", name="m1.nano", vcpus=1, ram=64, disk=1),
    FlavorSpec(flavorid="84", name="m1.micro", vcpus=1, ram=128, disk=1),
)
NAME_KIND = "flavor"


class Flavor(msgspec.Struct, frozen=True, kw_only=True):
    spec: FlavorSpec
    is_public: bool = True
    rxtx_factor: float = 1.0
    description: str | None = None
    projects: tuple[str, ...] = ()
    deleted: bool = False

    @property
    def extra_specs(self) -> dict[str, str]:
        return self.spec.extra_specs


class FlavorNotFound(NotFound):
    def __init__(self, flavorid: str) -> None:
        super().__init__("Flavor", flavorid)


class ExtraSpecNotFound(NotFound):
    def __init__(self, flavorid: str, key: str) -> None:
        DomainError.__init__(self, f"Flavor {flavorid} has no extra specs with key {key}.")
        self.kind, self.key = "Flavor extra spec", key


class AccessNotFound(NotFound):
    def __init__(self, flavorid: str, project_id: str) -> None:
        DomainError.__init__(
            self, f"Flavor access not found for {flavorid} / {project_id} combination.")
        self.kind, self.key = "Flavor access", project_id


# --- decide ---------------------------------------------------------------------------


def create(existing: Flavor | None, spec: FlavorSpec, *, is_public: bool = True,
           description: str | None = None, rxtx_factor: float = 1.0) -> list[Event]:
    """A new flavor; refused while a live flavor has that id."""
    if existing is not None and not existing.deleted:
        raise Duplicate(f"Flavor with ID {spec.flavorid} already exists.")
    if spec.vcpus < 1 or spec.ram < 1 or min(spec.disk, spec.ephemeral, spec.swap) < 0:
        raise Invalid("Flavor vcpus and ram must be positive, disks and swap not negative.")
    if rxtx_factor <= 0:
        raise Invalid("'rxtx_factor' argument must be a float between 0 and 3.40282e+38")
    bare = msgspec.structs.replace(spec, extra_specs={})
    return [ev.FlavorCreated(flavor=bare, is_public=is_public, description=description,
                             rxtx_factor=rxtx_factor)]


def alive(flavor: Flavor | None, flavorid: str) -> Flavor:
    """The flavor, or FlavorNotFound when it never was or is deleted."""
    if flavor is None or flavor.deleted:
        raise FlavorNotFound(flavorid)
    return flavor


def delete(flavor: Flavor | None, flavorid: str) -> list[Event]:
    alive(flavor, flavorid)
    return [ev.FlavorDeleted(flavorid=flavorid)]


def describe(flavor: Flavor | None, flavorid: str, description: str | None) -> list[Event]:
    if alive(flavor, flavorid).description == description:
        return []
    return [ev.FlavorDescriptionUpdated(flavorid=flavorid, description=description)]


def set_extra_specs(flavor: Flavor | None, flavorid: str,
                    extra_specs: dict[str, str]) -> list[Event]:
    """Add or change keys (the ones already holding those values record nothing)."""
    current = alive(flavor, flavorid).extra_specs
    changed = {key: value for key, value in extra_specs.items() if current.get(key) != value}
    return [ev.FlavorExtraSpecsSet(flavorid=flavorid, extra_specs=changed)] if changed else []


def delete_extra_spec(flavor: Flavor | None, flavorid: str, key: str) -> list[Event]:
    if key not in alive(flavor, flavorid).extra_specs:
        raise ExtraSpecNotFound(flavorid, key)
    return [ev.FlavorExtraSpecDeleted(flavorid=flavorid, key=key)]


def add_access(flavor: Flavor | None, flavorid: str, project_id: str, *,
               refuse_public: bool) -> list[Event]:
    """Let a project use a private flavor (from 2.7 a public one refuses: 409)."""
    current = alive(flavor, flavorid)
    if refuse_public and current.is_public:
        raise Duplicate("Can not add access to a public flavor.")
    if project_id in current.projects:
        raise Duplicate(f"Flavor access already exists for flavor {flavorid} and project"
                        f" {project_id} combination.")
    return [ev.FlavorAccessAdded(flavorid=flavorid, project_id=project_id)]


def remove_access(flavor: Flavor | None, flavorid: str, project_id: str) -> list[Event]:
    if project_id not in alive(flavor, flavorid).projects:
        raise AccessNotFound(flavorid, project_id)
    return [ev.FlavorAccessRemoved(flavorid=flavorid, project_id=project_id)]


# --- the name index -------------------------------------------------------------------


def claim_name(index: NameIndex, name: str, flavorid: str) -> list[Event]:
    """Reserve a flavor name for a flavor id (409 while another flavor holds it)."""
    if index.owner_id == flavorid:
        return []
    if index.owner_id is not None:
        raise Duplicate(f"Flavor with name {name} already exists.")
    return [ev.NameClaimed(kind=NAME_KIND, domain_id="", name=name, owner_id=flavorid)]


def release_name(index: NameIndex, flavorid: str) -> list[Event]:
    return [ev.NameReleased(owner_id=flavorid)] if index.owner_id == flavorid else []


# --- evolve ---------------------------------------------------------------------------


def _with_specs(flavor: Flavor, extra_specs: dict[str, str]) -> Flavor:
    return msgspec.structs.replace(
        flavor, spec=msgspec.structs.replace(flavor.spec, extra_specs=extra_specs))


def evolve(flavor: Flavor | None, event: Event) -> Flavor | None:
    """Apply one recorded event (never fails)."""
    match event:
        case ev.FlavorCreated():
            return Flavor(spec=event.flavor, is_public=event.is_public,
                          rxtx_factor=event.rxtx_factor, description=event.description)
    if flavor is None:
        return None
    replace = msgspec.structs.replace
    match event:
        case ev.FlavorDeleted():
            return replace(flavor, deleted=True)
        case ev.FlavorDescriptionUpdated():
            return replace(flavor, description=event.description)
        case ev.FlavorExtraSpecsSet():
            return _with_specs(flavor, {**flavor.extra_specs, **event.extra_specs})
        case ev.FlavorExtraSpecDeleted():
            specs = {k: v for k, v in flavor.extra_specs.items() if k != event.key}
            return _with_specs(flavor, specs)
        case ev.FlavorAccessAdded():
            return replace(flavor, projects=(*flavor.projects, event.project_id))
        case ev.FlavorAccessRemoved():
            return replace(flavor, projects=tuple(
                p for p in flavor.projects if p != event.project_id))
    return flavor
