"""``os-getConsoleOutput``: the tail of a guest's serial console, read on its host.

A row of server_actions.ACTIONS; unlike the others it answers 200 with the text.
"""

import re
from typing import Any

from litestar import Request, Response

from cloud.adapters.consoles import HostUnavailable
from cloud.domain.console import console_host
from cloud.http.context import Backend
from cloud.http.faults import ApiFault, BadRequest, ItemNotFound

# Nova drops the control characters a JSON (once XML) document should not carry;
# tab and newline stay.
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f]")
_INTEGER = re.compile("-?[0-9]+")


class NotImplementedFault(ApiFault):
    status = 501


class ServiceUnavailable(ApiFault):
    status = 503


class ComputeFault(ApiFault):
    status = 500


def console_length(body: Any) -> int | None:
    """Nova's schema: ``{"length": int | "int" | null}``, at least -1; -1 and null (or
    no length) mean the whole log."""
    if not isinstance(body, dict) or set(body) - {"length"}:
        raise BadRequest("Invalid input for field/attribute os-getConsoleOutput."
                         " Only 'length' is allowed.")
    value = body.get("length")
    if isinstance(value, str) and _INTEGER.fullmatch(value):
        value = int(value)
    if value is not None and (isinstance(value, bool) or not isinstance(value, int)
                              or value < -1):
        raise BadRequest(f"Invalid input for field/attribute length. Value: {value}."
                         " It must be an integer of at least -1.")
    return None if value == -1 else value


def get_console_output(_request: Request, backend: Backend, row: dict[str, Any],
                       body: Any) -> Response[Any]:
    """Ask the server's host for its console log (200 ``{"output": text}``)."""
    length = console_length(body)
    host = console_host(row["id"], host=row["host"], vm_state=row["vm_state"],
                        task_state=row["task_state"])
    if backend.consoles is None:
        raise NotImplementedFault("Console output is not available: this API has no"
                                  " connection to the compute hosts.")
    try:
        reply = backend.consoles.output(host, row["id"], length=length)
    except HostUnavailable as error:
        raise ServiceUnavailable(f"Unable to get the console output of instance"
                                 f" {row['id']}: {error}.") from None
    if reply.error == "not_found":
        raise ItemNotFound(f"Instance {row['id']} could not be found.")
    if reply.error == "not_implemented":
        raise NotImplementedFault(reply.message)
    if reply.error:
        raise ComputeFault(reply.message)
    return Response({"output": _CONTROL.sub("", reply.output)}, status_code=200)
