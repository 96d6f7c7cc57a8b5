"""A small HTTP/1.1 client for webhook POSTs: keep-alive connections to checked addresses.

Webhooks are many small POSTs to few endpoints. Measured on the 2-core benchmark machine
(``docs/performance.md``), an ``httpx.AsyncClient`` spent about 2 ms of CPU per POST (most
of it in its connection pool) against 0.1-0.3 ms for a plain asyncio stream, which decided
whether 10,000 Join buttons in one minute are sent on time. This client does only what a
webhook needs: connect to the address :mod:`.ssrf` checked (TLS with the endpoint's host
name for SNI and certificate verification against the system's trust store, which
``SSL_CERT_FILE`` can replace), send one request, read the status and skip the body
(``Content-Length``, chunked, or until close), and keep the connection for the next POST.
It never follows redirects. Every failure is a :class:`WebhookTransportError`.
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
from collections.abc import Mapping

MAX_HEAD = 64 * 1024
MAX_BODY = 1024 * 1024
MAX_IDLE_PER_TARGET = 64

Key = tuple[str, str, int, str]


class WebhookTransportError(Exception):
    """The endpoint could not be reached, or answered something that is not HTTP/1.x."""


class _Connection:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer

    def close(self) -> None:
        self.writer.close()


class Http1Client:
    """Keep-alive HTTP/1.1 POSTs; one pool of idle connections per (address, host)."""

    def __init__(self, *, timeout: float, user_agent: str) -> None:
        self.timeout = timeout
        self.user_agent = user_agent
        self._idle: dict[Key, list[_Connection]] = {}
        self._tls: ssl.SSLContext | None = None

    def _tls_context(self) -> ssl.SSLContext:
        if self._tls is None:
            self._tls = ssl.create_default_context()
        return self._tls

    async def post(self, scheme: str, address: str, port: int, host: str, path: str,
                   headers: Mapping[str, str], body: bytes) -> tuple[int, str | None]:
        """POST ``body``; the response status and its ``Retry-After`` header, if any."""
        key = (scheme, address, port, host)
        default = 443 if scheme == "https" else 80
        named = f"[{host}]" if ":" in host else host
        head = [f"POST {path} HTTP/1.1", f"Host: {named if port == default else f'{named}:{port}'}",
                f"User-Agent: {self.user_agent}", f"Content-Length: {len(body)}",
                *(f"{name}: {value}" for name, value in headers.items())]
        request = ("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + body
        try:
            async with asyncio.timeout(self.timeout):
                pooled = self._idle.get(key)
                if pooled:
                    connection = pooled.pop()
                    try:
                        return await self._exchange(key, connection, request)
                    except (OSError, asyncio.IncompleteReadError):
                        pass  # the server closed an idle connection: one fresh try
                connection = await self._connect(scheme, address, port, host)
                return await self._exchange(key, connection, request)
        except TimeoutError:
            raise WebhookTransportError("timed out") from None
        except ssl.SSLError as err:
            raise WebhookTransportError(f"TLS failed ({err.reason or err})") from None
        except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError,
                ValueError) as err:
            raise WebhookTransportError(f"{type(err).__name__}: connection failed") from None

    async def _connect(self, scheme: str, address: str, port: int, host: str
                       ) -> _Connection:
        if scheme == "https":
            reader, writer = await asyncio.open_connection(
                address, port, ssl=self._tls_context(), server_hostname=host,
                limit=MAX_HEAD)
        else:
            reader, writer = await asyncio.open_connection(address, port, limit=MAX_HEAD)
        return _Connection(reader, writer)

    async def _exchange(self, key: Key, connection: _Connection, request: bytes
                        ) -> tuple[int, str | None]:
        try:
            connection.writer.write(request)
            await connection.writer.drain()
            status, retry_after, reusable = await _read_response(connection.reader)
        except BaseException:
            connection.close()
            raise
        pool = self._idle.setdefault(key, [])
        if reusable and len(pool) < MAX_IDLE_PER_TARGET:
            pool.append(connection)
        else:
            connection.close()
        return status, retry_after

    async def aclose(self) -> None:
        """Close every idle connection."""
        for pool in self._idle.values():
            for connection in pool:
                connection.close()
                with contextlib.suppress(Exception):
                    await connection.writer.wait_closed()
        self._idle.clear()


async def _read_response(reader: asyncio.StreamReader) -> tuple[int, str | None, bool]:
    """Status, ``Retry-After`` and whether the connection can be reused; the body is read
    and dropped."""
    while True:
        head = await reader.readuntil(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        version, _, rest = lines[0].partition(" ")
        if not version.startswith("HTTP/1.") or not rest[:3].isdigit():
            raise ValueError("not an HTTP/1.x response")
        status = int(rest[:3])
        if status >= 200 or status == 101:
            break  # 1xx interim answers are skipped
    fields: dict[str, str] = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        fields[name.strip().lower()] = value.strip()
    retry_after = fields.get("retry-after")
    keep = version == "HTTP/1.1" and "close" not in fields.get("connection", "").lower()
    if status in (204, 304):
        return status, retry_after, keep
    if "chunked" in fields.get("transfer-encoding", "").lower():
        total = 0
        while True:
            size = int((await reader.readuntil(b"\r\n")).split(b";")[0].strip(), 16)
            total += size
            if total > MAX_BODY:
                return status, retry_after, False
            await reader.readexactly(size + 2)
            if size == 0:
                return status, retry_after, keep
    if "content-length" in fields:
        length = int(fields["content-length"])
        if length > MAX_BODY:
            return status, retry_after, False
        await reader.readexactly(length)
        return status, retry_after, keep
    await reader.read(MAX_BODY)  # delimited by close
    return status, retry_after, False
