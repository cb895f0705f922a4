"""Events of what servers are made from: flavors and images."""

from typing import ClassVar

import msgspec

from cloud.domain.events.base import Event, FlavorSpec


# --- flavor and image -----------------------------------------------------------------


class FlavorEvent(Event, frozen=True, kw_only=True):
    aggregate: ClassVar[str] = "flavor"


class FlavorCreated(FlavorEvent, frozen=True, kw_only=True):
    """A new flavor (again, after a delete) with no extra specs and no project access."""

    flavor: FlavorSpec
    is_public: bool = True
    description: str | None = None
    rxtx_factor: float = 1.0


class FlavorDeleted(FlavorEvent, frozen=True, kw_only=True):
    """Gone from the API; servers keep their copy of it."""

    flavorid: str


class FlavorDescriptionUpdated(FlavorEvent, frozen=True, kw_only=True):
    flavorid: str
    description: str | None


class FlavorExtraSpecsSet(FlavorEvent, frozen=True, kw_only=True):
    """These keys now have these values; other keys stay as they were."""

    flavorid: str
    extra_specs: dict[str, str]


class FlavorExtraSpecDeleted(FlavorEvent, frozen=True, kw_only=True):
    flavorid: str
    key: str


class FlavorAccessAdded(FlavorEvent, frozen=True, kw_only=True):
    """A project may now see and use a private flavor."""

    flavorid: str
    project_id: str


class FlavorAccessRemoved(FlavorEvent, frozen=True, kw_only=True):
    flavorid: str
    project_id: str


class ImageRegistered(Event, frozen=True, kw_only=True):
    """An image known without data, recorded at bootstrap: public, active, size 0."""

    aggregate: ClassVar[str] = "image"
    image_id: str
    name: str
    disk_format: str = "qcow2"
    container_format: str = "bare"
    min_disk: int = 0
    min_ram: int = 0


# --- images ---------------------------------------------------------------------------
# (ImageRegistered above records an image known without uploaded data: the bootstrap
# image. Everything else an image lives through is below.)


class ImageEvent(Event, frozen=True, kw_only=True):
    aggregate: ClassVar[str] = "image"


class ImageCreated(ImageEvent, frozen=True, kw_only=True):
    """A record without data (status ``queued``)."""

    name: str | None
    owner: str | None
    visibility: str
    disk_format: str | None = None
    container_format: str | None = None
    min_disk: int = 0
    min_ram: int = 0
    protected: bool = False
    os_hidden: bool = False
    tags: list[str] = []
    properties: dict[str, str] = {}


class ImageDataUploaded(ImageEvent, frozen=True, kw_only=True):
    """The data is stored and verified: the image is ``active``."""

    size: int
    checksum: str
    os_hash_algo: str
    os_hash_value: str


class ImageUpdated(ImageEvent, frozen=True, kw_only=True):
    """Only the attributes that changed are present."""

    name: str | None | msgspec.UnsetType = msgspec.UNSET
    owner: str | None | msgspec.UnsetType = msgspec.UNSET
    visibility: str | msgspec.UnsetType = msgspec.UNSET
    disk_format: str | None | msgspec.UnsetType = msgspec.UNSET
    container_format: str | None | msgspec.UnsetType = msgspec.UNSET
    min_disk: int | msgspec.UnsetType = msgspec.UNSET
    min_ram: int | msgspec.UnsetType = msgspec.UNSET
    protected: bool | msgspec.UnsetType = msgspec.UNSET
    os_hidden: bool | msgspec.UnsetType = msgspec.UNSET
    tags: list[str] | msgspec.UnsetType = msgspec.UNSET
    properties: dict[str, str] = {}
    removed_properties: list[str] = []


class ImageDeleted(ImageEvent, frozen=True, kw_only=True):
    """The record is gone (and its data with it)."""
