"""The API's door to the compute hosts: NATS request/reply for what only a host knows.

The API serves requests from worker threads; this client keeps its own event loop in a
thread of its own, so any thread may ask and the NATS connection lives on one loop.
"""

import asyncio
import concurrent.futures
import logging
import threading

import msgspec
import nats
import nats.errors
from nats.aio.client import Client

from cloud.adapters import bus

log = logging.getLogger(__name__)
DEFAULT_TIMEOUT = 10.0  # seconds a host has to answer


class HostUnavailable(Exception):
    """Nobody answered for the host: its agent is down, or the bus is out of reach."""

    def __init__(self, host: str, reason: str) -> None:
        super().__init__(f"compute host {host} {reason}")
        self.host, self.reason = host, reason


class ConsoleClient:
    """Asks a host's compute agent for a guest's console log (``bus.console_subject``)."""

    def __init__(self, url: str, *, user: str | None = None, password: str | None = None,
                 timeout: float = DEFAULT_TIMEOUT) -> None:
        self.timeout = timeout
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever,
                                        name="console-client", daemon=True)
        self._thread.start()
        self._last_error = ""
        # Connect in the background, retrying: the API serves without NATS meanwhile.
        self._connection = asyncio.run_coroutine_threadsafe(nats.connect(
            url, user=user, password=password, name="cloud-api", connect_timeout=5,
            max_reconnect_attempts=-1, reconnect_time_wait=0.5,
            error_cb=self._log_error), self._loop)

    def output(self, host: str, instance_id: str, *, length: int | None = None,
               ) -> bus.ConsoleReply:
        """The host's answer (blocking); ``HostUnavailable`` when none comes in time."""
        request = bus.ConsoleRequest(instance_id=instance_id, length=length)
        asked = asyncio.run_coroutine_threadsafe(self._ask(host, request), self._loop)
        return asked.result()

    async def _ask(self, host: str, request: bus.ConsoleRequest) -> bus.ConsoleReply:
        nc = await self._connected(host)
        try:
            msg = await nc.request(bus.console_subject(host), msgspec.json.encode(request),
                                   timeout=self.timeout)
        except nats.errors.NoRespondersError:
            raise HostUnavailable(host, "has no compute agent listening") from None
        except nats.errors.TimeoutError:
            raise HostUnavailable(host, f"did not answer in {self.timeout:g} s") from None
        return msgspec.json.decode(msg.data, type=bus.ConsoleReply)

    async def _connected(self, host: str) -> Client:
        # Shielded: a request giving up must not cancel the connection being made.
        pending = asyncio.shield(asyncio.wrap_future(self._connection))
        try:
            return await asyncio.wait_for(pending, timeout=self.timeout)
        except (TimeoutError, concurrent.futures.CancelledError, nats.errors.Error,
                OSError) as error:
            raise HostUnavailable(host, f"cannot be reached: no connection to NATS"
                                        f" ({type(error).__name__})") from None

    async def _log_error(self, error: Exception) -> None:
        # A NATS out of reach is retried every half second: say so once, not each time.
        text = f"{type(error).__name__}: {error}"
        if text != self._last_error:
            self._last_error = text
            log.warning("console client: %s", text)

    def close(self) -> None:
        """Close the connection and stop the client's loop."""
        async def shut() -> None:
            connection = self._connection
            if (connection.done() and not connection.cancelled()
                    and connection.exception() is None):
                await connection.result().close()
            else:
                connection.cancel()

        asyncio.run_coroutine_threadsafe(shut(), self._loop).result(timeout=10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)
        self._loop.close()
