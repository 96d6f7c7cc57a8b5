"""PromptServer: uvicorn's server, stopped as soon as it is told, and still graceful.

Each test serves a small Starlette app from a background thread
(:class:`~hybrid_calendar.threaded_server.ThreadedServer`) and stops it for real.
"""

from __future__ import annotations

import asyncio
import gc
import socket
import threading
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

import httpx
import pytest
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route
from uvicorn.protocols.http.h11_impl import H11Protocol

from hybrid_calendar import prompt_server
from hybrid_calendar.prompt_server import PromptServer
from hybrid_calendar.threaded_server import ThreadedServer, bind


class App:
    """An app whose ``/slow`` answers only once the test releases it, and which records
    its lifespan."""

    def __init__(self) -> None:
        self.lifespan: list[str] = []
        self.release = threading.Event()
        self.entered = threading.Event()

        @asynccontextmanager
        async def lifespan(_app: Starlette) -> AsyncIterator[None]:
            self.lifespan.append("startup")
            yield
            self.lifespan.append("shutdown")

        async def slow(_request: Request) -> PlainTextResponse:
            self.entered.set()
            await asyncio.to_thread(self.release.wait, 10)
            return PlainTextResponse("answered")

        async def ok(_request: Request) -> PlainTextResponse:
            return PlainTextResponse("ok")

        self.app = Starlette(routes=[Route("/", ok), Route("/slow", slow)], lifespan=lifespan)


@pytest.fixture
def app() -> App:
    return App()


@pytest.fixture
def served(app: App) -> Iterator[ThreadedServer]:
    server = ThreadedServer(bind(), PromptServer(uvicorn.Config(
        app.app, log_level="warning", lifespan="on")), name="prompt-server-test")
    server.start()
    yield server
    server.stop()


@dataclass
class Shutdowns:
    """Each run of uvicorn's own (paused, draining) shutdown: ``calls`` has an entry per
    run, ``began`` is set at the first."""

    calls: list[bool] = field(default_factory=list)
    began: threading.Event = field(default_factory=threading.Event)


@pytest.fixture
def uvicorn_shutdowns(monkeypatch: pytest.MonkeyPatch) -> Shutdowns:
    shutdowns = Shutdowns()
    original = uvicorn.Server.shutdown

    async def recording(self: uvicorn.Server, sockets: object = None) -> None:
        shutdowns.calls.append(True)
        shutdowns.began.set()
        await original(self, sockets)  # type: ignore[arg-type]

    monkeypatch.setattr(uvicorn.Server, "shutdown", recording)
    return shutdowns


def test_should_exit_wakes_the_main_loop(monkeypatch: pytest.MonkeyPatch, app: App) -> None:
    """With an hour between ticks, only the wake can end the main loop within the
    stop's 10-second join."""
    monkeypatch.setattr(prompt_server, "TICK_SECONDS", 3600.0)
    server = ThreadedServer(bind(), PromptServer(uvicorn.Config(
        app.app, log_level="warning", lifespan="on")), name="prompt-server-test")
    server.start()
    server.stop()
    assert not server.thread.is_alive()
    assert app.lifespan == ["startup", "shutdown"]


def test_an_idle_server_skips_uvicorns_paused_shutdown(
        uvicorn_shutdowns: Shutdowns, served: ThreadedServer, app: App) -> None:
    """No connection open: uvicorn's shutdown (and its fixed pause) is not run, the
    lifespan's shutdown is."""
    with httpx.Client(base_url=served.base_url) as client:
        assert client.get("/").text == "ok"
    served.stop()
    assert uvicorn_shutdowns.calls == []
    assert app.lifespan == ["startup", "shutdown"]
    with pytest.raises(httpx.ConnectError):
        httpx.get(served.base_url + "/", timeout=2)


def test_a_request_in_flight_is_answered_before_the_server_stops(
        uvicorn_shutdowns: Shutdowns, served: ThreadedServer, app: App) -> None:
    """A request still running when the stop comes takes uvicorn's own shutdown, which
    waits for it: the client gets its answer. The request is let go only once that
    shutdown has begun, so it is in flight when the server decides."""
    answers: list[str] = []

    def ask() -> None:
        answers.append(httpx.get(served.base_url + "/slow", timeout=10).text)

    asking = threading.Thread(target=ask)
    asking.start()
    assert app.entered.wait(10)
    stopping = threading.Thread(target=served.stop)
    stopping.start()
    assert uvicorn_shutdowns.began.wait(10)
    app.release.set()
    asking.join(10)
    stopping.join(15)
    assert answers == ["answered"]
    assert uvicorn_shutdowns.calls == [True]
    assert not served.thread.is_alive()
    assert app.lifespan == ["startup", "shutdown"]


def test_an_idle_kept_alive_connection_takes_uvicorns_shutdown(
        uvicorn_shutdowns: Shutdowns, served: ThreadedServer, app: App) -> None:
    """A client still holding its connection open (a reverse proxy's pool, say) is
    asked to close by uvicorn's own shutdown, as before; the server then stops."""
    with httpx.Client(base_url=served.base_url) as client:
        assert client.get("/").text == "ok"
        served.stop()
        assert uvicorn_shutdowns.calls == [True]
        assert not served.thread.is_alive()
    assert app.lifespan == ["startup", "shutdown"]


class LateRegistering(H11Protocol):
    """uvicorn's h11 protocol, told of its connection a few turns of the loop late (as
    behind a TLS handshake, or when the stop came in the turn the connection was
    accepted): it registers with uvicorn only then."""

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        loop = asyncio.get_running_loop()

        def later(turns: int) -> None:
            if turns:
                loop.call_soon(later, turns - 1)
            else:
                H11Protocol.connection_made(self, transport)

        later(10)


@pytest.mark.anyio
async def test_a_connection_accepted_as_the_stop_comes_is_closed(app: App) -> None:
    """The server has made a connection's transport, but uvicorn does not know the
    connection yet, when the stop comes: the shutdown waits until it does and uvicorn's
    own shutdown asks it to close, so no connection outlives the server (one did, and
    the chaos test's restarts caught it)."""
    sock = bind()
    server = PromptServer(uvicorn.Config(app.app, log_level="warning", lifespan="on",
                                         http=LateRegistering))
    server.config.load()
    server.lifespan = server.config.lifespan_class(server.config)
    await server.startup(sockets=[sock])
    reader, writer = await asyncio.open_connection(*sock.getsockname()[:2])
    [listener] = server.servers
    for _ in range(100):  # until the server has made the connection's transport
        await asyncio.sleep(0)
        if listener._active_count:  # type: ignore[attr-defined]
            break
    assert listener._active_count == 1  # type: ignore[attr-defined]
    assert not server.server_state.connections  # not uvicorn's yet
    await server.shutdown(sockets=[sock])
    async with asyncio.timeout(5):
        assert await reader.read() == b""  # closed by the server
    writer.close()
    assert app.lifespan == ["startup", "shutdown"]


@pytest.mark.anyio
async def test_a_connection_accepted_in_the_turn_the_stop_comes_is_closed(
        app: App, recwarn: pytest.WarningsRecorder) -> None:
    """The stop comes after asyncio accepted a connection but before the accept's task
    made its transport: closing the server first made that transport fail to attach
    (asyncio swallowed the error), and the socket was left to the collector with a
    ``ResourceWarning``. Now the connection is made, known and closed by the server."""
    sock = bind()
    server = PromptServer(uvicorn.Config(app.app, log_level="warning", lifespan="on"))
    server.config.load()
    server.lifespan = server.config.lifespan_class(server.config)
    await server.startup(sockets=[sock])
    [listener] = server.servers
    client = socket.create_connection(sock.getsockname()[:2])  # in the listen queue
    await asyncio.sleep(0)  # this turn runs before the poll that finds the queue
    await asyncio.sleep(0)  # this one before the first step of the accept's task
    assert listener._active_count == 0  # type: ignore[attr-defined]  # no transport yet
    await server.shutdown(sockets=[sock])
    client.settimeout(5)
    assert client.recv(1) == b""  # closed by the server
    client.close()
    gc.collect()
    assert [str(w.message) for w in recwarn if w.category is ResourceWarning] == []
    assert listener._active_count == 0  # type: ignore[attr-defined]
    assert app.lifespan == ["startup", "shutdown"]
