"""``serve``'s HTTP front (:mod:`hybrid_calendar.front`): a front route answers while the
home loop is held; every other route runs on the home loop, bridged; shutdown drains.

A :class:`FrontedServer` runs in a thread (its home loop is that thread's loop), driven by
real HTTP requests on loopback. The home loop is held by a route that waits for a
``threading.Event`` the test sets.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response, StreamingResponse
from starlette.routing import Route

from hybrid_calendar.front import FrontDispatch, FrontedServer, FrontRoute
from hybrid_calendar.listening import wait_until_answering
from hybrid_calendar.server_limits import HeaderTimeoutProtocol


class Held:
    """Holds the home loop from inside a request until released."""

    def __init__(self) -> None:
        self.entered = threading.Event()
        self.release = threading.Event()


def _app(held: Held) -> FrontDispatch:
    async def quick(request: Request) -> Response:
        return PlainTextResponse(threading.current_thread().name)

    async def where(request: Request) -> Response:
        return PlainTextResponse(threading.current_thread().name)

    async def hold(request: Request) -> Response:
        held.entered.set()
        held.release.wait(30)  # blocks the home loop on purpose
        return PlainTextResponse("released")

    async def echo(request: Request) -> Response:
        body = await request.body()

        async def chunks() -> object:
            for part in (b"a", b"b", body):
                yield part
        return StreamingResponse(chunks(), media_type="text/plain")  # type: ignore[arg-type]

    front_routes = [FrontRoute("/quick", quick, methods=["POST"])]
    routes = [*front_routes, Route("/where", where), Route("/hold", hold),
              Route("/echo", echo, methods=["POST"])]
    return FrontDispatch(Starlette(routes=routes), Starlette(routes=front_routes),
                         front_routes)


@pytest.fixture
def served() -> Iterator[tuple[str, Held, FrontedServer]]:
    held = Held()
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = FrontedServer(uvicorn.Config(_app(held), host="127.0.0.1", port=port,
                                          log_config=None, lifespan="on",
                                          http=HeaderTimeoutProtocol))
    thread = threading.Thread(target=server.run, name="home")
    thread.start()
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_answering(base + "/where", within=30, alive=thread.is_alive)
        yield base, held, server
    finally:
        held.release.set()
        server.should_exit = True
        thread.join(30)


def test_front_route_answers_while_the_home_loop_is_held(
        served: tuple[str, Held, FrontedServer]) -> None:
    base, held, _server = served
    with httpx.Client(base_url=base, timeout=30) as client, \
            ThreadPoolExecutor(2) as pool:
        assert client.get("/where").text == "home"  # other routes: the home loop
        holding = pool.submit(client.get, "/hold")
        assert held.entered.wait(30)
        quick = client.post("/quick")  # answered while the home loop is held
        assert quick.status_code == 200 and quick.text == "http-front"
        waiting = pool.submit(client.get, "/where")
        held.release.set()
        assert holding.result(30).text == "released"
        assert waiting.result(30).text == "home"


def test_bridged_routes_keep_bodies_streams_and_statuses(
        served: tuple[str, Held, FrontedServer]) -> None:
    base, _held, _server = served
    with httpx.Client(base_url=base, timeout=30) as client:
        echoed = client.post("/echo", content=b"x" * 100_000)
        assert echoed.status_code == 200 and echoed.content == b"ab" + b"x" * 100_000
        assert client.get("/nowhere").status_code == 404
        assert client.get("/quick").status_code == 405  # a front path, another method
        assert client.post("/where").status_code == 405


def test_shutdown_stops_the_front_and_the_home_loop(
        served: tuple[str, Held, FrontedServer]) -> None:
    base, _held, server = served
    front = server.front
    assert front is not None and front.thread.is_alive()
    server.should_exit = True
    front.thread.join(30)
    assert not front.thread.is_alive()
    with pytest.raises(httpx.TransportError):
        httpx.get(base + "/where", timeout=5)
