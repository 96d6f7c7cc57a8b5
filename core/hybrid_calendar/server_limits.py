"""Connection limits of ``hybrid-calendar serve`` (uvicorn's HTTP/1.1 protocol, bounded).

The protocol is uvicorn's httptools one (llhttp, a C parser): ≈ 110–200 µs of server CPU
per request on loopback against ≈ 250–330 µs for its h11 one (``docs/performance.md``,
push acknowledgement), CPU the gateway's event loop shares with the syncs.

uvicorn closes idle keep-alive connections (``timeout_keep_alive``) and answers 503 past
``limit_concurrency``, but it waits for a request's headers forever: a client sending one
byte a minute holds a connection indefinitely, and so does one whose body never ends (the
gateway reads a body whole before answering). :class:`HeaderTimeoutProtocol` closes a
connection whose request headers are not complete :data:`HEADER_TIMEOUT` seconds after the
connection opened (or after the previous response), or whose body is not complete
:data:`BODY_TIMEOUT` seconds after its headers.
"""

from __future__ import annotations

import asyncio
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

HEADER_TIMEOUT = 10.0
"""Seconds a client has to send a request's headers."""
BODY_TIMEOUT = 30.0
"""Seconds a client has, once the headers are complete, to send the whole body (1 MiB at
most: ``hybrid_calendar.limits``)."""
KEEP_ALIVE_TIMEOUT = 5
"""Seconds an idle keep-alive connection stays open."""
MAX_CONNECTIONS = 1000
"""Concurrent connections and tasks; past it uvicorn answers 503."""
MAX_HEADER_BYTES = 65_536
"""Largest request head (request line and headers) accepted."""


class HeaderTimeoutProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol with a deadline for request headers and a bounded head.

    A request head (request line and headers) still incomplete after
    :data:`MAX_HEADER_BYTES` gets 400 and the connection is closed, as uvicorn's h11
    protocol did with ``max_incomplete_event_size``.
    """

    header_timeout = HEADER_TIMEOUT
    body_timeout = BODY_TIMEOUT
    max_head_bytes = MAX_HEADER_BYTES

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._header_deadline: asyncio.TimerHandle | None = None
        self._in_head = True
        self._in_body = False
        self._head_bytes = 0

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        """Start the header deadline with the connection."""
        super().connection_made(transport)
        self._arm()

    def data_received(self, data: bytes) -> None:
        """Refuse a head growing past the limit (counted until the headers are complete)."""
        if self._in_head:
            self._head_bytes += len(data)
        super().data_received(data)
        if self._in_head and self._head_bytes > self.max_head_bytes \
                and not self.transport.is_closing():
            self._disarm()
            self.send_400_response("Request head too large.")

    def on_headers_complete(self) -> None:
        """The headers are complete: the body now has its own deadline."""
        self._in_head = False
        self._disarm()
        super().on_headers_complete()
        self._in_body = True
        self._arm(self.body_timeout)

    def on_message_complete(self) -> None:
        """The body is complete: no deadline while the app answers."""
        self._in_body = False
        self._disarm()
        super().on_message_complete()

    def on_response_complete(self) -> None:
        """A kept-alive connection gets a new deadline for the next request."""
        super().on_response_complete()
        if not self.transport.is_closing():
            self._in_head, self._in_body = True, False
            self._head_bytes = 0
            self._arm()

    def connection_lost(self, exc: Exception | None) -> None:
        """Drop the deadline with the connection."""
        self._disarm()
        super().connection_lost(exc)

    def _arm(self, seconds: float | None = None) -> None:
        self._disarm()
        self._header_deadline = self.loop.call_later(
            self.header_timeout if seconds is None else seconds, self._expire)

    def _disarm(self) -> None:
        if self._header_deadline is not None:
            self._header_deadline.cancel()
            self._header_deadline = None

    def _expire(self) -> None:
        self._header_deadline = None
        if (self._in_head or self._in_body) and not self.transport.is_closing():
            self.transport.close()
