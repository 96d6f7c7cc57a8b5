"""A uvicorn server that stops as soon as it is told to.

uvicorn's ``Server`` notices ``should_exit`` on its next tick (every 0.1 s) and then,
in ``shutdown``, pauses another 0.1 s after asking open connections to close, even when
there are none. A stop therefore took 150–180 ms whatever the server was doing: for the
gateway at SIGTERM that is nothing, but the tests start and stop about a thousand
servers (emulators, gateways, receivers), and those pauses were a quarter of the default
test run (docs/performance.md).

:class:`PromptServer` is uvicorn's server with three changes:

* setting ``should_exit`` (uvicorn's signal handler, a test, another thread) wakes the
  main loop at once instead of at its next tick; the tick itself still runs every 0.1 s
  as before (the ``Date`` header, ``limit_max_requests``);
* a shutdown with no open connection and no running request closes the listening
  sockets and runs the lifespan's shutdown without the pause. With connections or
  requests, uvicorn's own shutdown runs unchanged: they are asked to close and waited
  for, as before;
* a connection accepted as the stop comes is not lost: the listening sockets stop being
  read before the server closes, and the shutdown waits (at most 0.1 s) until uvicorn
  knows every connection asyncio made, so that its own shutdown closes them too
  (:meth:`PromptServer.shutdown`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket

import uvicorn

TICK_SECONDS = 0.1
"""How often the main loop runs uvicorn's tick (uvicorn's own interval)."""

SETTLE_SECONDS = 0.1
"""Longest wait at shutdown for connections accepted but not yet registered with uvicorn
(uvicorn's own shutdown pauses this long for the same reason, whatever is open)."""

SETTLE_STEP_SECONDS = 0.001
"""The wait's step (a transport behind a TLS handshake takes round trips, not turns)."""

log = logging.getLogger("uvicorn.error")


class PromptServer(uvicorn.Server):
    """``uvicorn.Server``, woken by ``should_exit`` and not pausing to close nothing."""

    def __init__(self, config: uvicorn.Config) -> None:
        self._wake: asyncio.Event | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._exit = False
        super().__init__(config)

    @property
    def should_exit(self) -> bool:
        """Whether the server is to stop; setting it wakes the main loop, from any
        thread."""
        return self._exit

    @should_exit.setter
    def should_exit(self, value: bool) -> None:
        self._exit = value
        loop, wake = self._loop, self._wake
        if value and loop is not None and wake is not None:
            with contextlib.suppress(RuntimeError):  # that loop has closed: it has stopped
                loop.call_soon_threadsafe(wake.set)

    def _unregistered(self) -> int:
        """Transports the listening servers have made that uvicorn does not know as
        connections yet (``-1`` when asyncio does not say how many it made: then every
        shutdown takes uvicorn's own way)."""
        made = [getattr(server, "_active_count", None) for server in self.servers]
        if any(count is None for count in made):
            return -1
        return max(0, sum(made) - len(self.server_state.connections))  # type: ignore[arg-type]

    async def main_loop(self) -> None:
        """uvicorn's tick every :data:`TICK_SECONDS` until ``should_exit``, which ends the
        wait at once."""
        self._wake = asyncio.Event()
        self._loop = asyncio.get_running_loop()
        counter = 0
        should_exit = await self.on_tick(counter)
        while not should_exit:
            counter = (counter + 1) % 864000
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), TICK_SECONDS)
            should_exit = await self.on_tick(counter)

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        """uvicorn's shutdown; without open connections or running requests, the same
        steps without its pause.

        A connection accepted just before the stop is not uvicorn's yet. asyncio makes
        its transport in a task of its own, one turn of the loop after the accept; that
        transport attaches to the server, which fails once the server is closed (an
        ``AssertionError`` asyncio swallows, leaving the socket to the collector: a
        ``ResourceWarning``). The transport then tells the protocol, which registers
        with uvicorn, one turn later, or once a TLS handshake is done. So the listening
        sockets stop being read first, the server is closed two turns later, and
        connections not registered yet are waited for (at most :data:`SETTLE_SECONDS`),
        so that uvicorn's shutdown asks them to close too. (Both happened to pushes
        that came in as the chaos test restarted the gateway.)"""
        loop = asyncio.get_running_loop()
        for server in self.servers:
            for listening in server.sockets:
                loop.remove_reader(listening.fileno())  # no new connections from here on
        # two turns: the accepts of this turn's poll, then their tasks' first steps
        await asyncio.sleep(0)
        await asyncio.sleep(0)
        for server in self.servers:
            server.close()
        if self._unregistered() > 0:
            await asyncio.sleep(0)  # the new transports have told their protocols by now,
            # unless behind a TLS handshake
        for _step in range(round(SETTLE_SECONDS / SETTLE_STEP_SECONDS)):  # no event says
            if self._unregistered() <= 0:
                break
            await asyncio.sleep(SETTLE_STEP_SECONDS)
        if self.server_state.connections or self.server_state.tasks \
                or self._unregistered():
            await super().shutdown(sockets)
            return
        log.info("Shutting down")
        for sock in sockets or []:
            sock.close()
        for server in self.servers:
            await server.wait_closed()
        if not self.force_exit:
            await self.lifespan.shutdown()
