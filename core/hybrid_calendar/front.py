"""The HTTP front of ``hybrid-calendar serve``: one port, answered from a thread of its own.

The gateway's event loop (the *home loop*) runs the engine: syncs convert pages, detect
join information and call the store, each step holding the loop for a while. A push
notification answered on that loop waits behind them (``docs/performance.md``, "Push
acknowledgement"). So ``serve`` runs uvicorn's connections on a second event loop in a
thread of its own, the *front loop*, and :class:`FrontDispatch` decides per request:

* a :class:`FrontRoute` (the Google push receiver) is answered on the front loop: its
  endpoint reads memory only and hands work to the home loop thread-safely
  (:func:`on_gateway_loop`, ``loop.call_soon_threadsafe``);
* every other request (admin API, people pages, SSE, health) runs on the home loop, as
  before: the ASGI call is started there and its ``receive``/``send`` come back to the
  front loop, where the connection lives (:func:`bridge`).

The lifespan (store, plugins' start-up, the engine) stays on the home loop, and so do
signals and uvicorn's graceful shutdown, which first drains the front's connections and
only then shuts the gateway down. Operators still see one port and one URL.

Both loops share one interpreter lock; :data:`SWITCH_INTERVAL` shortens the time a thread
waiting for it (the front, woken by a request) waits for the busy one to let go.
"""

from __future__ import annotations

import asyncio
import logging
import sys
import threading
from collections.abc import Awaitable, Callable, Coroutine
from typing import TYPE_CHECKING, Any, TypeVar

import uvicorn
from starlette.routing import Match, Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

if TYPE_CHECKING:
    from hybrid_calendar.gateway import Gateway

log = logging.getLogger("uvicorn.error")
T = TypeVar("T")

SWITCH_INTERVAL = 0.001
"""Seconds a thread runs before one waiting for the interpreter lock gets it (CPython's
default is 0.005); measured in ``docs/performance.md``."""
STARTUP_FAILURE = 3
"""uvicorn's exit status when start-up fails."""


class FrontRoute(Route):
    """A route whose endpoint may run on the HTTP front's own event loop.

    Its endpoint must not touch what belongs to the home loop (the store, the engine, the
    HTTP client) directly: it reads memory, and reaches the home loop only through
    :func:`on_gateway_loop` or ``gateway.loop.call_soon_threadsafe``. Under a single loop
    (tests, ``create_app`` in an ASGI client) it runs like any other route.
    """


async def on_gateway_loop(gateway: Gateway, call: Callable[[], Awaitable[T]]) -> T:
    """Await ``call()`` on the gateway's home loop, from whichever loop runs the caller."""
    home = gateway.loop
    if home is None or home is asyncio.get_running_loop():
        return await call()

    async def run() -> T:
        return await call()

    return await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(run(), home))


async def bridge(app: ASGIApp, home: asyncio.AbstractEventLoop, scope: Scope,
                 receive: Receive, send: Send) -> None:
    """Run ``app`` for one connection scope on ``home``; its ``receive``/``send`` run on the
    caller's loop (where the connection lives). Cancelling the caller cancels the app."""
    front = asyncio.get_running_loop()

    async def front_receive() -> Message:
        return await receive()

    async def front_send(message: Message) -> None:
        await send(message)

    async def remote_receive() -> Message:
        return await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(front_receive(),
                                                                          front))

    async def remote_send(message: Message) -> None:
        await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(front_send(message),
                                                                   front))

    await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(
        _called(app, scope, remote_receive, remote_send), home))


async def _called(app: ASGIApp, scope: Scope, receive: Receive, send: Send) -> None:
    await app(scope, receive, send)


class FrontDispatch:
    """The ASGI app the front's connections call.

    :param app: the gateway's app (lifespan and every route), run on the home loop.
    :param front_app: an app serving only :class:`FrontRoute` routes (the same middleware),
        run on the front loop.
    :param front_routes: the routes ``front_app`` serves (matched here per request).
    """

    def __init__(self, app: ASGIApp, front_app: ASGIApp, front_routes: list[Route]) -> None:
        self.app = app
        self.front_app = front_app
        self.front_routes = front_routes
        self.home: asyncio.AbstractEventLoop | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Lifespan: record the home loop. HTTP: front route here, the rest at home."""
        loop = asyncio.get_running_loop()
        if scope["type"] == "lifespan":
            self.home = loop
        home = self.home
        if home is None or home is loop:
            await self.app(scope, receive, send)
        elif scope["type"] == "http" and any(
                route.matches(scope)[0] is Match.FULL for route in self.front_routes):
            await self.front_app(scope, receive, send)
        else:
            await bridge(self.app, home, scope, receive, send)


class FrontLoop:
    """An event loop running in a daemon thread of its own."""

    def __init__(self, name: str,
                 loop_factory: Callable[[], asyncio.AbstractEventLoop] = asyncio.new_event_loop
                 ) -> None:
        self.loop = loop_factory()
        self.thread = threading.Thread(target=self._run, name=name, daemon=True)

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        try:
            self.loop.run_forever()
        finally:
            pending = asyncio.all_tasks(self.loop)
            for task in pending:
                task.cancel()
            self.loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
            self.loop.run_until_complete(self.loop.shutdown_asyncgens())
            self.loop.close()

    def start(self) -> None:
        """Start the thread (and its loop)."""
        self.thread.start()

    async def run(self, coroutine: Coroutine[Any, Any, T]) -> T:
        """Await ``coroutine`` run on this loop, from another loop."""
        return await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(coroutine,
                                                                          self.loop))

    def stop(self, timeout: float = 10.0) -> None:
        """Stop the loop (cancelling what still runs on it) and wait for the thread."""
        if self.thread.is_alive():
            self.loop.call_soon_threadsafe(self.loop.stop)
            self.thread.join(timeout)


def front_loop_factory() -> Callable[[], asyncio.AbstractEventLoop]:
    """The front loop's kind: uvloop when ``HYBRID_CALENDAR_FRONT_LOOP=uvloop`` (measuring)."""
    import os
    if os.environ.get("HYBRID_CALENDAR_FRONT_LOOP") == "uvloop":
        import uvloop
        return uvloop.new_event_loop
    return asyncio.new_event_loop


class FrontedServer(uvicorn.Server):
    """uvicorn's server whose listening socket and connections live on a :class:`FrontLoop`.

    Lifespan, signals and the once-a-second tick stay on the calling (home) loop, as in
    :class:`uvicorn.Server`. The config's app should be a :class:`FrontDispatch`. Serves
    ``config.host``/``config.port`` (or the sockets passed to :meth:`serve`).
    """

    def __init__(self, config: uvicorn.Config) -> None:
        super().__init__(config)
        self.front: FrontLoop | None = None
        self.listeners: list[asyncio.base_events.Server] = []

    async def startup(self, sockets: list[Any] | None = None) -> None:
        """Run the lifespan start-up here, then listen on the front loop."""
        await self.lifespan.startup()
        if self.lifespan.should_exit:
            sys.exit(STARTUP_FAILURE)
        import os  # measuring knobs of this attempt (docs/performance.md)
        sys.setswitchinterval(float(os.environ.get("HYBRID_CALENDAR_SWITCH_INTERVAL",
                                                   SWITCH_INTERVAL)))
        if os.environ.get("HYBRID_CALENDAR_FRONT_HTTP") == "httptools":
            from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
            self.config.http_protocol_class = HttpToolsProtocol
        self.front = FrontLoop("http-front", front_loop_factory())
        self.front.start()
        try:
            await self.front.run(self._listen(sockets))
        except OSError as err:
            log.error("%s", err)
            self.front.stop()
            await self.lifespan.shutdown()
            sys.exit(STARTUP_FAILURE)
        self.started = True

    async def _listen(self, sockets: list[Any] | None) -> None:
        config = self.config
        loop = asyncio.get_running_loop()

        def protocol() -> asyncio.Protocol:
            return config.http_protocol_class(  # type: ignore[call-arg]
                config=config, server_state=self.server_state, app_state=self.lifespan.state,
                _loop=loop)

        if sockets:
            for sock in sockets:
                self.listeners.append(await loop.create_server(
                    protocol, sock=sock, ssl=config.ssl, backlog=config.backlog))
            return
        self.listeners.append(await loop.create_server(
            protocol, host=config.host, port=config.port, ssl=config.ssl,
            backlog=config.backlog))
        self._log_started_message(self.listeners[0].sockets)

    async def shutdown(self, sockets: list[Any] | None = None) -> None:
        """Drain the front's connections (up to the graceful timeout), stop its loop, then
        run the lifespan shutdown here."""
        log.info("Shutting down")
        if self.front is not None:
            await self.front.run(self._drain())
            self.front.stop()
        if not self.force_exit:
            await self.lifespan.shutdown()

    async def _drain(self) -> None:
        for listener in self.listeners:
            listener.close()
        for connection in list(self.server_state.connections):
            connection.shutdown()
        await asyncio.sleep(0.1)
        try:
            await asyncio.wait_for(self._wait_tasks_to_complete(),
                                   timeout=self.config.timeout_graceful_shutdown)
        except TimeoutError:
            log.error("Cancel %s running task(s), timeout graceful shutdown exceeded",
                      len(self.server_state.tasks))
            for task in self.server_state.tasks:
                task.cancel(msg="Task cancelled, timeout graceful shutdown exceeded")

    async def _wait_tasks_to_complete(self) -> None:
        # uvicorn's protocols offer no event for "all connections closed": polled as
        # uvicorn.Server does it.
        busy = self.server_state
        while (busy.connections or busy.tasks) and not self.force_exit:  # noqa: ASYNC110
            await asyncio.sleep(0.1)
        for listener in self.listeners:
            await listener.wait_closed()
