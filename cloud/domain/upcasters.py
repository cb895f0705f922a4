"""Old event shapes, upgraded as they are read, so that any log ever written replays.

An envelope carries ``schema`` (1 when absent). When an event's shape changes, register
a step ``(event name, old schema) -> function(envelope dict) -> envelope dict`` here;
new envelopes of that event are then written at the next schema, and old ones are
upgraded step by step before msgspec turns them into event Structs. A step sees the
whole envelope (the event's id, key and name too), so it can also rename an event.
"""

from collections.abc import Callable
from typing import Any

from cloud.domain import instance
from cloud.domain.events import EVENT_TYPES

Document = dict[str, Any]
Upcaster = Callable[[Document], Document]


def _instance_requested_1_to_2(doc: Document) -> Document:
    # Schema 2 (microversion 2.3) records the server's hostname; before it the hostname
    # was not kept, and Nova derives it from the display name the same way.
    data = dict(doc["data"])
    data.setdefault("hostname", instance.hostname(data.get("name", ""))
                    or f"Server-{doc['id']}")
    return {**doc, "data": data}


UPCASTERS: dict[tuple[str, int], Upcaster] = {
    ("InstanceRequested", 1): _instance_requested_1_to_2,
}


def current_schema(event: str) -> int:
    """The schema new envelopes of ``event`` are written at."""
    schema = 1
    while (event, schema) in UPCASTERS:
        schema += 1
    return schema


def upcast(doc: Document) -> Document:
    """An envelope document brought up to its event's current schema."""
    schema = doc.get("schema", 1)
    while (step := UPCASTERS.get((doc["event"], schema))) is not None:
        doc, schema = step(doc), schema + 1
    return {**doc, "schema": schema}


def readable(event: str, schema: int = 1) -> bool:
    """Whether an event of this name and schema can be turned into a current event."""
    return event in EVENT_TYPES or (event, schema) in UPCASTERS
