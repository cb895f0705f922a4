"""Server view additions that need more than the server's row: the image's properties
embedded in ``image`` from 2.98."""

from typing import Any

from cloud.http.context import Backend

Row = dict[str, Any]
V2_98 = (2, 98)
# Image attributes Nova copies among the properties it shows (as strings, like Nova's
# image metadata).
_IMAGE_ATTRIBUTES = ("container_format", "disk_format", "min_disk", "min_ram")


def image_properties(image: Row | None) -> dict[str, str]:
    """The image's custom properties and its format and minimums, all as strings."""
    if image is None:
        return {}
    shown = {key: str(value) for key, value in (image.get("properties") or {}).items()}
    for name in _IMAGE_ATTRIBUTES:
        if image.get(name) is not None:
            shown[name] = str(image[name])
    return shown


def with_image(backend: Backend, row: Row, version: tuple[int, int]) -> Row:
    """A server row with its image's properties for 2.98 (show, detail, rebuild, update).
    The image as it is now: a deleted image shows no properties."""
    if version < V2_98:
        return row
    return {**row, "image_properties": image_properties(
        backend.read_models.image(row["image_ref"]))}
