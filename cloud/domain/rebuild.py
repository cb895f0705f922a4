"""What a rebuild request changes besides the image: the fields it set, by name."""

import msgspec

from cloud.domain.events import InstanceRebuildRequested

# Fields of InstanceRebuildRequested a rebuild may set; UNSET ones are left as they were.
CHANGEABLE = ("description", "key_name", "user_data", "trusted_image_certificates",
              "hostname", "metadata")


def changes(event: InstanceRebuildRequested) -> dict[str, object]:
    """The server fields the rebuild sets (its name always; the others when given)."""
    fields: dict[str, object] = {"name": event.name}
    for name in CHANGEABLE:
        value = getattr(event, name)
        if value is not msgspec.UNSET:
            fields[name] = value
    return fields
