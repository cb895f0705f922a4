"""A compute agent's answer to the API's console-log requests (core NATS request/reply).

Reading a log changes nothing, so there is no event and no report: the reply is all.
"""

import logging

import msgspec

from cloud.adapters import bus
from cloud.agents.hypervisor import GuestNotFound, Hypervisor

log = logging.getLogger(__name__)


def answer(hypervisor: Hypervisor, data: bytes) -> bytes:
    """The encoded ``ConsoleReply`` to an encoded ``ConsoleRequest`` (blocking)."""
    try:
        request = msgspec.json.decode(data, type=bus.ConsoleRequest)
    except msgspec.DecodeError as error:
        return _reply(error="failed", message=f"Malformed console request: {error}")
    try:
        output = hypervisor.console_output(request.instance_id, length=request.length)
    except GuestNotFound as error:
        return _reply(error="not_found", message=str(error))
    except NotImplementedError:
        return _reply(error="not_implemented",
                      message="This hypervisor keeps no console log.")
    except Exception as error:
        log.exception("console output of %s failed", request.instance_id)
        return _reply(error="failed", message=f"Could not read the console log: {error}")
    return _reply(output=output)


def _reply(**fields: str) -> bytes:
    return msgspec.json.encode(bus.ConsoleReply(**fields))
