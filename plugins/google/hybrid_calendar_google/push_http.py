"""The push receiver's HTTP/1.1 server: an ``asyncio`` protocol around httptools' parser.

The receiver answers one route with empty or short bodies, so it needs none of a
framework: a request is parsed by llhttp (httptools, the parser ``serve`` uses too),
judged by :class:`~.push_desk.PushDesk` — most often without a single ``await`` — and
answered on the kept-alive connection. That is about a third of the CPU per request of
uvicorn's protocol with an ASGI app (``docs/performance.md``, push acknowledgement).

It keeps the limits of ``serve`` (:mod:`hybrid_calendar.server_limits`): a request head
must be complete within :data:`~hybrid_calendar.server_limits.HEADER_TIMEOUT` seconds
and :data:`~hybrid_calendar.server_limits.MAX_HEADER_BYTES` bytes (else 400 and the
connection is closed), its body within
:data:`~hybrid_calendar.server_limits.BODY_TIMEOUT` seconds more (else it is closed),
an idle kept-alive connection is closed after
:data:`~hybrid_calendar.server_limits.KEEP_ALIVE_TIMEOUT` seconds, and past
:data:`~hybrid_calendar.server_limits.MAX_CONNECTIONS` connections a new one gets 503.
A body (Google sends none) is read and dropped, up to :data:`MAX_BODY_BYTES` (else 413).
Pipelined requests are answered in order; a client that does not read its answers stops
being read. Every refusal is counted in the desk (``bad_request``, ``internal_error``),
never logged per request.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from functools import partial
from typing import TYPE_CHECKING

import httptools

from hybrid_calendar.server_limits import (
    BODY_TIMEOUT,
    HEADER_TIMEOUT,
    KEEP_ALIVE_TIMEOUT,
    MAX_CONNECTIONS,
    MAX_HEADER_BYTES,
)

if TYPE_CHECKING:
    from hybrid_calendar_google.push_checks import Answer
    from hybrid_calendar_google.push_desk import PushDesk

log = logging.getLogger(__name__)

MAX_BODY_BYTES = 65_536
"""Largest request body read (and dropped)."""
SWEEP_SECONDS = 0.5
"""How often deadlines are checked (a deadline is enforced at most this much late)."""
ROUTE = b"/webhooks/google"
_GOOGLE_HEADERS = frozenset({b"x-goog-channel-id", b"x-goog-channel-token",
                             b"x-goog-resource-id", b"x-goog-resource-state",
                             b"x-goog-message-number"})
_REASONS = {200: b"OK", 400: b"Bad Request", 403: b"Forbidden", 404: b"Not Found",
            405: b"Method Not Allowed", 413: b"Content Too Large",
            500: b"Internal Server Error", 503: b"Service Unavailable"}

Request = tuple[bytes, bytes, dict[str, str], bool, bool]
"""Method, path, Google headers, keep-alive, body too large."""


class Connections:
    """The open connections of one server: the limit, their deadlines, closing them all.

    Deadlines are checked every :data:`SWEEP_SECONDS` by one task (:meth:`sweep`) rather
    than by a timer per request, which would cost two timer operations per answer.
    """

    def __init__(self, limit: int = MAX_CONNECTIONS) -> None:
        self.limit = limit
        self.open: set[PushHttpProtocol] = set()

    async def sweep(self) -> None:
        """Close the connections past their deadline, every :data:`SWEEP_SECONDS`."""
        loop = asyncio.get_running_loop()
        while True:
            await asyncio.sleep(SWEEP_SECONDS)
            now = loop.time()
            for connection in list(self.open):
                connection.expire_if_due(now)

    def close_all(self) -> None:
        """Close every open connection (shutdown)."""
        for connection in list(self.open):
            connection.transport.close()


def response(status: int, body: bytes = b"", extra: list[tuple[bytes, bytes]] | None = None,
             *, close: bool = False) -> bytes:
    """One HTTP/1.1 response's bytes."""
    head = [b"HTTP/1.1 %d %s" % (status, _REASONS.get(status, b"Unknown")),
            b"content-length: %d" % len(body)]
    if body:
        head.append(b"content-type: text/plain; charset=utf-8")
    head.extend(name + b": " + value for name, value in extra or ())
    if close:
        head.append(b"connection: close")
    return b"\r\n".join(head) + b"\r\n\r\n" + body


class PushHttpProtocol(asyncio.Protocol):
    """One client connection of the push receiver."""

    def __init__(self, desk: PushDesk, connections: Connections) -> None:
        self.desk = desk
        self.connections = connections
        self.transport: asyncio.Transport
        self.parser = httptools.HttpRequestParser(self)
        self.loop = asyncio.get_running_loop()
        self._queue: deque[Request] = deque()
        self._busy = False
        self._deadline: float | None = None
        self._url = b""
        self._headers: dict[str, str] = {}
        self._in_head = True
        self._partial = False
        self._head_bytes = 0
        self._body_bytes = 0

    # --- asyncio.Protocol -----------------------------------------------------------
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        """Refuse past the connection limit; else wait for a request head."""
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        if len(self.connections.open) >= self.connections.limit:
            transport.write(response(503, b"too many connections", close=True))
            transport.close()
            return
        self.connections.open.add(self)
        self._arm(HEADER_TIMEOUT)

    def data_received(self, data: bytes) -> None:
        """Parse; answer every complete request in order."""
        if self._in_head:
            self._head_bytes += len(data)
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserError:  # HttpParserUpgrade included: no upgrades here
            self._refuse(b"bad request")
            return
        if self._in_head and self._head_bytes > MAX_HEADER_BYTES:
            self._refuse(b"request head too large")
            return
        self._process()

    def connection_lost(self, exc: Exception | None) -> None:
        """Forget the connection."""
        self.connections.open.discard(self)
        self._deadline = None
        self._queue.clear()

    def pause_writing(self) -> None:
        """The client does not read its answers: stop reading its requests."""
        self.transport.pause_reading()

    def resume_writing(self) -> None:
        """It reads again."""
        self.transport.resume_reading()

    # --- httptools callbacks --------------------------------------------------------
    def on_message_begin(self) -> None:
        """A new request: its head must be complete in time."""
        self._url, self._headers, self._body_bytes = b"", {}, 0
        self._in_head = self._partial = True
        self._arm(HEADER_TIMEOUT)

    def on_url(self, url: bytes) -> None:
        """Part of the request target."""
        self._url += url

    def on_header(self, name: bytes, value: bytes) -> None:
        """Keep the first of each Google header (values as latin-1, as HTTP defines)."""
        name = name.lower()
        if name in _GOOGLE_HEADERS:
            self._headers.setdefault(name.decode("latin-1"), value.decode("latin-1"))

    def on_headers_complete(self) -> None:
        """The head is complete: the body (Google sends none) has a deadline of its own."""
        self._in_head = False
        self._arm(BODY_TIMEOUT)

    def on_body(self, body: bytes) -> None:
        """Count (and drop) body bytes."""
        self._body_bytes += len(body)

    def on_message_complete(self) -> None:
        """Queue the request for an answer."""
        self._queue.append((self.parser.get_method(), self._url.split(b"?", 1)[0],
                            self._headers, self.parser.should_keep_alive(),
                            self._body_bytes > MAX_BODY_BYTES))
        self._in_head, self._partial, self._head_bytes = True, False, 0

    # --- answers --------------------------------------------------------------------
    def _process(self) -> None:
        while self._queue and not self._busy and not self.transport.is_closing():
            method, path, headers, keep_alive, too_large = self._queue.popleft()
            if path != ROUTE:
                self._send(keep_alive, (404, b"not found", []))
            elif method != b"POST":
                self._send(keep_alive, (405, b"method not allowed", [(b"allow", b"POST")]))
            elif too_large:
                self._send(False, (413, b"body too large", []))
            else:
                try:
                    answered = self.desk.answer_now(headers)
                except Exception:  # a bug here must answer, not kill the connection
                    log.exception("push receiver error")
                    self.desk.count("internal_error")
                    answered = (500, b"internal error", [])
                if answered is not None:
                    self._send(keep_alive, answered)
                else:  # the channel must be looked up: later requests wait their turn
                    self._busy = True
                    self.transport.pause_reading()
                    task = self.loop.create_task(self.desk.answer(headers))
                    task.add_done_callback(partial(self._looked_up, keep_alive=keep_alive))
                    return
        if not (self._queue or self._partial or self.transport.is_closing()):
            self._arm(KEEP_ALIVE_TIMEOUT)  # idle between requests

    def _looked_up(self, task: asyncio.Task[Answer], *, keep_alive: bool) -> None:
        self._busy = False
        if self.transport.is_closing():
            return
        try:
            answered = task.result()
        except Exception:
            log.exception("push receiver error")
            self.desk.count("internal_error")
            answered = (500, b"internal error", [])
        self._send(keep_alive, answered)
        self.transport.resume_reading()
        self._process()

    def _send(self, keep_alive: bool, answered: Answer) -> None:
        status, body, extra = answered
        self.transport.write(response(status, body, extra, close=not keep_alive))
        if not keep_alive:
            self._queue.clear()
            self.transport.close()

    def _refuse(self, body: bytes) -> None:
        self.desk.count("bad_request")
        self._queue.clear()
        if not self.transport.is_closing():
            self.transport.write(response(400, body, close=True))
            self.transport.close()

    # --- deadlines ------------------------------------------------------------------
    def _arm(self, seconds: float) -> None:
        self._deadline = self.loop.time() + seconds

    def expire_if_due(self, now: float) -> None:
        """Close the connection when its deadline (head or keep-alive) has passed."""
        if self._deadline is not None and now >= self._deadline and not self._busy \
                and not self.transport.is_closing():
            self._deadline = None
            self.transport.close()
