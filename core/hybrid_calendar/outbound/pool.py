"""A keep-alive pool of HTTP/1.1 connections with limits, timeouts and TLS verification.

Connections are kept per origin (scheme, host, port, and the address actually connected
to, which differs from the host only when a caller has checked and pinned it). Idle
connections are reused newest first and closed after ``keepalive_expiry`` seconds; at most
``max_connections`` are open at once (a request beyond that waits up to the pool timeout,
closing an idle connection of another origin first if there is one), and at most
``max_keepalive`` stay idle.

``https`` is always verified: the default TLS context is
:func:`ssl.create_default_context` (the system's trust store; ``SSL_CERT_FILE`` and
``SSL_CERT_DIR`` replace it), with the host name checked and sent for SNI, ALPN
``http/1.1``. Proxies are not supported: the gateway connects to its services directly.

A server may close an idle connection just as a request is sent on it. As Go's
``net/http`` does, the pool then sends the request once more on a new connection if the
connection had been reused, no byte of the answer had arrived, and either the request was
not written or its method is idempotent (``GET``, ``HEAD``, ``PUT``, ``DELETE``,
``OPTIONS``); a ``POST`` or ``PATCH`` that reached a closing connection fails with
:class:`~hybrid_calendar.outbound.errors.Disconnected` and the caller's retry layer decides.
"""

from __future__ import annotations

import asyncio
import collections
import re
import ssl
from collections.abc import Sequence
from dataclasses import dataclass

from hybrid_calendar.outbound.connection import Answer, Http1Connection
from hybrid_calendar.outbound.errors import (
    ConnectFailed,
    ConnectTimedOut,
    Disconnected,
    InvalidRequest,
    PoolTimedOut,
    ReadFailed,
)

Origin = tuple[str, str, int, str]
"""(scheme, host, port, address connected to)."""

IDEMPOTENT = frozenset({b"GET", b"HEAD", b"PUT", b"DELETE", b"OPTIONS", b"TRACE"})
_TOKEN = re.compile(rb"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
_BAD_VALUE = re.compile(rb"[\r\n\0]")


@dataclass(frozen=True, slots=True)
class Timeouts:
    """Seconds per phase (``None``: no limit), as httpx's ``Timeout`` splits them."""

    connect: float | None = 10.0
    read: float | None = 30.0
    write: float | None = 30.0
    pool: float | None = 30.0


class ConnectionPool:
    """Keep-alive HTTP/1.1 connections shared by every request of the process.

    :param max_connections: open connections at most, over all origins.
    :param max_keepalive: idle connections kept at most.
    :param keepalive_expiry: seconds an idle connection is kept.
    :param ssl_context: TLS settings for ``https`` (default: verified, system trust store).
    :param max_head: largest response head accepted, in bytes.
    :param max_body: largest response body accepted, in bytes.
    """

    def __init__(self, *, max_connections: int = 100, max_keepalive: int = 50,
                 keepalive_expiry: float = 4.0, ssl_context: ssl.SSLContext | None = None,
                 max_head: int = 64 * 1024, max_body: int = 256 * 1024 * 1024) -> None:
        self.max_connections = max_connections
        self.max_keepalive = max_keepalive
        self.keepalive_expiry = keepalive_expiry
        self.max_head = max_head
        self.max_body = max_body
        self._ssl = ssl_context
        self._idle: dict[Origin, list[Http1Connection]] = {}
        self._idle_count = 0
        self._open: set[Http1Connection] = set()
        self._connecting = 0
        self._waiters: collections.deque[asyncio.Future[None]] = collections.deque()
        self._valid_names: set[bytes] = set()
        self._closed = False

    def _tls(self) -> ssl.SSLContext:
        if self._ssl is None:
            context = ssl.create_default_context()
            context.set_alpn_protocols(["http/1.1"])
            self._ssl = context
        return self._ssl

    @property
    def open_connections(self) -> int:
        """Connections open now, idle or in use."""
        return len(self._open)

    @property
    def idle_connections(self) -> int:
        """Connections open and waiting for a request."""
        return self._idle_count

    def encode(self, method: bytes, target: bytes,
               headers: Sequence[tuple[bytes, bytes]], body: bytes) -> bytes:
        """The request's bytes: request line, header fields (as given), blank line, body.

        :raises InvalidRequest: a header name is not a token, or a value or the target
            holds CR, LF or NUL.
        """
        valid = self._valid_names
        lines = [method + b" " + target + b" HTTP/1.1\r\n"]
        for name, value in headers:
            if name not in valid:
                if not _TOKEN.fullmatch(name):
                    raise InvalidRequest("invalid header name")
                if len(valid) < 1024:
                    valid.add(name)
            if _BAD_VALUE.search(value):
                raise InvalidRequest("invalid header value")
            lines.append(name + b": " + value + b"\r\n")
        if _BAD_VALUE.search(target) or b" " in target or not _TOKEN.fullmatch(method):
            raise InvalidRequest("invalid request line")
        lines.append(b"\r\n")
        lines.append(body)
        return b"".join(lines)

    async def request(self, method: bytes, origin: Origin, request: bytes, *,
                      timeouts: Timeouts, max_body: int | None = None,
                      resend: bool | None = None) -> Answer:
        """Send ``request`` (from :meth:`encode`) to ``origin``; the complete response.

        :param resend: whether the request may be sent once more when a reused connection
            closed before answering (default: if the method is idempotent).
        :raises OutboundError: (a subclass of) as listed in :mod:`.errors`.
        """
        safe = method in IDEMPOTENT if resend is None else resend
        head_only = method == b"HEAD"
        limit = self.max_body if max_body is None else max_body
        fresh = False
        while True:
            connection, reused = await self._acquire(origin, timeouts, fresh=fresh)
            try:
                answer = await connection.exchange(
                    request, head_only=head_only, read_timeout=timeouts.read,
                    write_timeout=timeouts.write, max_body=limit)
            except (Disconnected, ReadFailed):
                self._discard(connection)
                if reused and not connection.received and not fresh and (
                        safe or not connection.written):
                    fresh = True  # the server closed an idle connection: once, anew
                    continue
                raise
            except BaseException:
                self._discard(connection)
                raise
            self._release(origin, connection, answer.reusable)
            return answer

    async def _acquire(self, origin: Origin, timeouts: Timeouts, *, fresh: bool
                       ) -> tuple[Http1Connection, bool]:
        loop = asyncio.get_running_loop()
        deadline = None if timeouts.pool is None else loop.time() + timeouts.pool
        while True:
            if self._closed:
                raise ConnectFailed("the connection pool is closed")
            if not fresh:
                reused = self._take_idle(origin, loop.time())
                if reused is not None:
                    return reused, True
            if len(self._open) + self._connecting < self.max_connections or \
                    self._evict_one():
                return await self._connect(origin, timeouts.connect), False
            waiter = loop.create_future()
            self._waiters.append(waiter)
            remaining = None if deadline is None else deadline - loop.time()
            try:
                if remaining is not None and remaining <= 0:
                    raise TimeoutError
                async with asyncio.timeout(remaining):
                    await waiter
            except TimeoutError:
                raise PoolTimedOut("no connection became free within the pool timeout"
                                   ) from None
            finally:
                if waiter in self._waiters:
                    self._waiters.remove(waiter)

    def _take_idle(self, origin: Origin, now: float) -> Http1Connection | None:
        idle = self._idle.get(origin)
        while idle:
            connection = idle.pop()
            self._idle_count -= 1
            if connection.usable and now - connection.idle_since < self.keepalive_expiry:
                return connection
            self._close(connection)
        return None

    def _evict_one(self) -> bool:
        """Close the oldest idle connection of any origin; whether there was one."""
        oldest: tuple[float, Origin] | None = None
        for origin, idle in self._idle.items():
            if idle and (oldest is None or idle[0].idle_since < oldest[0]):
                oldest = (idle[0].idle_since, origin)
        if oldest is None:
            return False
        connection = self._idle[oldest[1]].pop(0)
        self._idle_count -= 1
        self._close(connection)
        return True

    async def _connect(self, origin: Origin, seconds: float | None) -> Http1Connection:
        scheme, host, port, address = origin
        loop = asyncio.get_running_loop()
        tls = self._tls() if scheme == "https" else None
        self._connecting += 1  # the slot is taken while connecting
        try:
            async with asyncio.timeout(seconds):
                _, protocol = await loop.create_connection(
                    lambda: Http1Connection(max_head=self.max_head), address, port,
                    ssl=tls, server_hostname=host if tls else None)
        except TimeoutError:
            self._wake_one()
            raise ConnectTimedOut("connecting took longer than the connect timeout") from None
        except ssl.SSLError as err:
            self._wake_one()
            raise ConnectFailed(f"TLS failed ({err.reason or type(err).__name__})") from None
        except OSError as err:
            self._wake_one()
            raise ConnectFailed(f"connection failed ({type(err).__name__})") from None
        except BaseException:
            self._wake_one()
            raise
        finally:
            self._connecting -= 1
        self._open.add(protocol)
        return protocol

    def _release(self, origin: Origin, connection: Http1Connection, reusable: bool) -> None:
        if reusable and not self._closed and self._idle_count < self.max_keepalive and \
                connection.usable:
            connection.idle_since = asyncio.get_running_loop().time()
            self._idle.setdefault(origin, []).append(connection)
            self._idle_count += 1
            self._wake_one()
        else:
            self._discard(connection)

    def _discard(self, connection: Http1Connection) -> None:
        self._close(connection)
        self._wake_one()

    def _close(self, connection: Http1Connection) -> None:
        connection.close()
        self._open.discard(connection)

    def _wake_one(self) -> None:
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(None)
                return

    async def aclose(self) -> None:
        """Close every connection; later requests fail with ``ConnectFailed``."""
        self._closed = True
        for connection in list(self._open):
            connection.close()
        self._open.clear()
        self._idle.clear()
        self._idle_count = 0
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(None)
        await asyncio.sleep(0)  # let the transports run their close callbacks
