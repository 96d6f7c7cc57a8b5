"""One HTTP/1.1 client connection on an asyncio protocol: write a request, read its answer.

The connection is an :class:`asyncio.Protocol`, not a stream pair: received bytes go to one
buffer and the waiting request is woken only once the buffer holds what it needs (the rest
of the head, the body's length), so a response costs a handful of Python calls. The whole
request (head and body) is written in one ``write``; asyncio sets ``TCP_NODELAY``.

Framing follows RFC 9112: a response to ``HEAD`` and 1xx/204/304 answers have no body;
otherwise ``Transfer-Encoding: chunked`` (trailers are read and dropped), else
``Content-Length``, else the body runs to the end of the connection. Interim 1xx answers
are skipped. The connection is reusable after a complete response unless either side
said ``Connection: close`` or the server spoke HTTP/1.0.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import cast

from hybrid_calendar.outbound.errors import (
    BodyTooLarge,
    Disconnected,
    ProtocolViolation,
    ReadFailed,
    ReadTimedOut,
    WriteTimedOut,
)

NO_BODY_STATUSES = frozenset({204, 304})


@dataclass(slots=True)
class Answer:
    """A complete HTTP response.

    :ivar status: the status code.
    :ivar reason: the reason phrase (may be empty).
    :ivar headers: the header fields as received (name case kept).
    :ivar body: the body, de-chunked but not decoded (``Content-Encoding`` stays applied).
    :ivar reusable: whether the connection may carry another request.
    """

    status: int
    reason: bytes
    headers: list[tuple[bytes, bytes]]
    body: bytes
    reusable: bool


def _expire(waiter: asyncio.Future[None], error: type[Exception], message: str) -> None:
    if not waiter.done():
        waiter.set_exception(error(message))


class Http1Connection(asyncio.Protocol):
    """One keep-alive connection; a single request at a time (no pipelining).

    :param max_head: largest response head accepted, in bytes.
    """

    def __init__(self, *, max_head: int) -> None:
        self._max_head = max_head
        self._transport: asyncio.Transport | None = None
        self._loop = asyncio.get_running_loop()
        self._buffer = bytearray()
        self._need = 0
        self._waiter: asyncio.Future[None] | None = None
        self._drain: asyncio.Future[None] | None = None
        self._eof = False
        self._lost: BaseException | None = None
        self.idle_since = 0.0
        """Loop time when the connection last became idle (the pool's keep-alive clock)."""
        self.received = False
        """Whether any byte of the current response has arrived."""
        self.written = False
        """Whether the current request was handed to the socket."""

    # -- asyncio.Protocol -------------------------------------------------------------
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports implement asyncio.Transport without subclassing it
        self._transport = cast(asyncio.Transport, transport)

    def data_received(self, data: bytes) -> None:
        self._buffer += data
        self.received = True
        waiter = self._waiter
        if waiter is not None and len(self._buffer) >= self._need and not waiter.done():
            waiter.set_result(None)

    def eof_received(self) -> bool:
        self._eof = True
        self._wake()
        return False  # close the transport

    def connection_lost(self, exc: Exception | None) -> None:
        self._eof = True
        self._lost = exc
        self._wake()
        if self._drain is not None and not self._drain.done():
            self._drain.set_result(None)

    def pause_writing(self) -> None:
        self._drain = self._loop.create_future()

    def resume_writing(self) -> None:
        if self._drain is not None and not self._drain.done():
            self._drain.set_result(None)
        self._drain = None

    def _wake(self) -> None:
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    # -- use ----------------------------------------------------------------------------
    @property
    def usable(self) -> bool:
        """Open, not closed by the server, and nothing unasked-for in the buffer."""
        transport = self._transport
        return (transport is not None and not self._eof and not transport.is_closing()
                and not self._buffer)

    def close(self) -> None:
        """Close the connection (idempotent)."""
        if self._transport is not None:
            self._transport.close()
        self._eof = True

    async def exchange(self, request: bytes, *, head_only: bool, read_timeout: float | None,
                       write_timeout: float | None, max_body: int) -> Answer:
        """Write ``request`` and read its response.

        :param head_only: the request was ``HEAD`` (the response has no body).
        :raises Disconnected: the server closed before the response was complete.
        :raises ReadTimedOut, WriteTimedOut: a timeout passed.
        :raises ProtocolViolation: the response is not valid HTTP/1.x framing.
        :raises ReadFailed: the socket failed.
        """
        transport = self._transport
        self.written = False
        if transport is None or not self.usable:
            raise Disconnected("the connection was closed before the request was written",
                               received=False)
        self.received = False
        transport.write(request)
        self.written = True
        if self._drain is not None:
            await self._wait(self._drain, write_timeout, WriteTimedOut,
                             "the request could not be written in time")
        while True:
            status, reason, headers, fields, start = await self._read_head(read_timeout)
            if status >= 200 or status == 101:
                break  # interim 1xx answers are skipped
            del self._buffer[:start]
        keep = fields.version == b"HTTP/1.1" and not fields.close
        if head_only or status in NO_BODY_STATUSES or 100 <= status < 200:
            del self._buffer[:start]
            return Answer(status, reason, headers, b"", keep)
        if fields.chunked:
            body = await self._read_chunked(start, read_timeout, max_body, status, headers)
        elif fields.length is not None and not fields.until_close:
            if fields.length > max_body:
                raise BodyTooLarge(f"response body of {fields.length} bytes exceeds the limit",
                                   status=status, headers=headers)
            end = start + fields.length
            await self._fill(end, read_timeout)
            body = bytes(self._buffer[start:end])
            del self._buffer[:end]
        else:
            body = await self._read_to_close(start, read_timeout, max_body, status, headers)
            keep = False
        return Answer(status, reason, headers, body, keep)

    async def _wait(self, waiter: asyncio.Future[None], seconds: float | None,
                    error: type[Exception], message: str) -> None:
        handle = (self._loop.call_later(seconds, _expire, waiter, error, message)
                  if seconds is not None else None)
        try:
            await waiter
        finally:
            if handle is not None:
                handle.cancel()

    async def _more(self, size: int, seconds: float | None) -> None:
        """Wait until the buffer holds ``size`` bytes or the connection ends, at most
        ``seconds`` (the read timeout)."""
        self._need = size
        waiter = self._waiter = self._loop.create_future()
        try:
            await self._wait(waiter, seconds, ReadTimedOut,
                             "no response bytes within the read timeout")
        finally:
            self._waiter = None

    async def _fill(self, size: int, seconds: float | None) -> None:
        """Wait until the buffer holds ``size`` bytes."""
        while len(self._buffer) < size:
            if self._eof:
                if self._lost is not None:
                    raise ReadFailed(f"connection failed: {type(self._lost).__name__}")
                raise Disconnected("the server closed the connection mid-response",
                                   received=self.received)
            await self._more(size, seconds)

    async def _read_head(self, seconds: float | None
                         ) -> tuple[int, bytes, list[tuple[bytes, bytes]], _Fields, int]:
        searched = 0
        while True:
            end = self._buffer.find(b"\r\n\r\n", max(0, searched - 3))
            if end >= 0:
                break
            searched = len(self._buffer)
            if searched > self._max_head:
                raise ProtocolViolation("response head too large")
            await self._fill(searched + 1, seconds)
        lines = bytes(self._buffer[:end]).split(b"\r\n")
        version, _, rest = lines[0].partition(b" ")
        code, _, reason = rest.partition(b" ")
        if not version.startswith(b"HTTP/1.") or len(code) != 3 or not code.isdigit():
            raise ProtocolViolation("not an HTTP/1.x response")
        fields = _Fields(version)
        headers: list[tuple[bytes, bytes]] = []
        for line in lines[1:]:
            name, colon, value = line.partition(b":")
            if not colon or not name or name[-1:] in (b" ", b"\t") or line[:1] in (b" ", b"\t"):
                raise ProtocolViolation("malformed response header line")
            value = value.strip(b" \t")
            headers.append((name, value))
            fields.note(name.lower(), value)
        return int(code), reason, headers, fields, end + 4

    async def _read_chunked(self, start: int, seconds: float | None, max_body: int,
                            status: int, headers: list[tuple[bytes, bytes]]) -> bytes:
        parts: list[bytes] = []
        total = 0
        pos = start
        while True:
            line_end = await self._find_line(pos, seconds)
            size_text = bytes(self._buffer[pos:line_end]).split(b";", 1)[0].strip()
            try:
                size = int(size_text, 16)
            except ValueError:
                raise ProtocolViolation("malformed chunk size") from None
            if size < 0:
                raise ProtocolViolation("malformed chunk size")
            pos = line_end + 2
            if size == 0:
                break
            total += size
            if total > max_body:
                raise BodyTooLarge("chunked response body exceeds the limit",
                                   status=status, headers=headers)
            await self._fill(pos + size + 2, seconds)
            if self._buffer[pos + size:pos + size + 2] != b"\r\n":
                raise ProtocolViolation("chunk not followed by CRLF")
            parts.append(bytes(self._buffer[pos:pos + size]))
            del self._buffer[:pos + size + 2]
            pos = 0
        while True:  # trailer fields, up to the empty line
            line_end = await self._find_line(pos, seconds)
            empty = line_end == pos
            pos = line_end + 2
            if empty:
                break
        del self._buffer[:pos]
        return b"".join(parts)

    async def _find_line(self, pos: int, seconds: float | None) -> int:
        while True:
            end = self._buffer.find(b"\r\n", pos)
            if end >= 0:
                return end
            if len(self._buffer) - pos > self._max_head:
                raise ProtocolViolation("chunk header too long")
            await self._fill(len(self._buffer) + 1, seconds)

    async def _read_to_close(self, start: int, seconds: float | None, max_body: int,
                             status: int, headers: list[tuple[bytes, bytes]]) -> bytes:
        while not self._eof:
            if len(self._buffer) - start > max_body:
                raise BodyTooLarge("response body exceeds the limit", status=status,
                                   headers=headers)
            await self._more(len(self._buffer) + 1, seconds)
        if self._lost is not None:
            raise ReadFailed(f"connection failed: {type(self._lost).__name__}")
        if len(self._buffer) - start > max_body:
            raise BodyTooLarge("response body exceeds the limit", status=status,
                               headers=headers)
        body = bytes(self._buffer[start:])
        self._buffer.clear()
        return body


class _Fields:
    """The framing-relevant header fields of one response."""

    __slots__ = ("chunked", "close", "length", "until_close", "version")

    def __init__(self, version: bytes) -> None:
        self.version = version
        self.length: int | None = None
        self.chunked = False
        self.close = False
        self.until_close = False

    def note(self, name: bytes, value: bytes) -> None:
        if name == b"content-length":
            if not value.isdigit():
                raise ProtocolViolation("malformed Content-Length")
            length = int(value)
            if self.length is not None and self.length != length:
                raise ProtocolViolation("conflicting Content-Length values")
            self.length = length
        elif name == b"transfer-encoding":
            self.chunked = value.lower().rsplit(b",", 1)[-1].strip() == b"chunked"
            self.until_close = not self.chunked  # another final coding: runs to close
        elif name == b"connection":
            self.close = self.close or b"close" in value.lower()
