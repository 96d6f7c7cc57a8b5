"""Webhook POSTs over the outbound HTTP/1.1 pool, to addresses :mod:`.ssrf` checked.

Webhooks are many small POSTs to few endpoints. Measured on the 2-core benchmark machine
(``docs/performance.md``), an ``httpx.AsyncClient`` on its stock transport spent about
2 ms of CPU per POST (most of it in its connection pool) against 0.1-0.3 ms for a plain
asyncio connection, which decided whether 10,000 Join buttons in one minute are sent on
time. This client uses the gateway's own keep-alive pool
(:class:`hybrid_calendar.outbound.ConnectionPool`, the one under the shared
``httpx.AsyncClient`` too) without the httpx layer: it connects to the address
:mod:`.ssrf` checked (TLS with the endpoint's host name for SNI and certificate
verification against the system's trust store, which ``SSL_CERT_FILE`` can replace),
sends one request, reads the status (a body over 1 MiB is not read: the connection is
dropped) and keeps the connection for the next POST. It never follows redirects. A
message carries its ``webhook-id``, which receivers deduplicate by, so a POST that met a
kept connection the endpoint had just closed is sent once more on a new one. Every
failure is a :class:`WebhookTransportError`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping

from hybrid_calendar.outbound.errors import BodyTooLarge, OutboundError, TimedOut
from hybrid_calendar.outbound.pool import ConnectionPool, Timeouts

MAX_BODY = 1024 * 1024
MAX_IDLE = 256
MAX_OPEN = 1024


class WebhookTransportError(Exception):
    """The endpoint could not be reached, or answered something that is not HTTP/1.x."""


class Http1Client:
    """Keep-alive HTTP/1.1 POSTs; idle connections kept per (address, host)."""

    def __init__(self, *, timeout: float, user_agent: str) -> None:
        self.timeout = timeout
        self.user_agent = user_agent.encode("ascii")
        self._timeouts = Timeouts(connect=timeout, read=timeout, write=timeout, pool=timeout)
        self._pool = ConnectionPool(max_connections=MAX_OPEN, max_keepalive=MAX_IDLE,
                                    max_body=MAX_BODY)

    async def post(self, scheme: str, address: str, port: int, host: str, path: str,
                   headers: Mapping[str, str], body: bytes) -> tuple[int, str | None]:
        """POST ``body``; the response status and its ``Retry-After`` header, if any."""
        default = 443 if scheme == "https" else 80
        named = f"[{host}]" if ":" in host else host
        fields = [(b"Host", (named if port == default else f"{named}:{port}").encode("idna")),
                  (b"User-Agent", self.user_agent),
                  (b"Content-Length", str(len(body)).encode()),
                  *((name.encode("latin-1"), value.encode("latin-1"))
                    for name, value in headers.items())]
        try:
            request = self._pool.encode(b"POST", path.encode("ascii"), fields, body)
            async with asyncio.timeout(self.timeout):
                answer = await self._pool.request(b"POST", (scheme, host, port, address),
                                                  request, timeouts=self._timeouts,
                                                  resend=True)
        except BodyTooLarge as large:
            return large.status, _retry_after(large.headers)
        except (TimeoutError, TimedOut):
            raise WebhookTransportError("timed out") from None
        except OutboundError as err:
            raise WebhookTransportError(str(err)) from None
        except (UnicodeError, ValueError) as err:
            raise WebhookTransportError(f"{type(err).__name__}: invalid request") from None
        return answer.status, _retry_after(answer.headers)

    async def aclose(self) -> None:
        """Close every kept connection."""
        await self._pool.aclose()


def _retry_after(headers: list[tuple[bytes, bytes]]) -> str | None:
    for name, value in headers:
        if name.lower() == b"retry-after":
            return value.decode("latin-1")
    return None
