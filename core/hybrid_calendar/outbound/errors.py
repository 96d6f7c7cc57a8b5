"""What the outbound HTTP/1.1 pool raises.

Every failure of :class:`~hybrid_calendar.outbound.pool.ConnectionPool` derives from
:class:`OutboundError`::

    OutboundError
    ├── ConnectFailed           no connection: refused, unreachable, name unknown, TLS
    │                           handshake or certificate verification failed
    ├── TimedOut                a deadline passed
    │   ├── ConnectTimedOut     while connecting (TCP and TLS)
    │   ├── WriteTimedOut       while the request waited to be written
    │   ├── ReadTimedOut        while waiting for the next bytes of the response
    │   └── PoolTimedOut        while waiting for a free connection slot
    ├── Disconnected            the server closed before the response was complete
    ├── ReadFailed              the socket failed while reading or writing
    ├── ProtocolViolation       the answer is not HTTP/1.x, or its framing is broken
    │   └── BodyTooLarge        the response body exceeds the pool's limit
    └── InvalidRequest          a header name or value that would break the framing

:mod:`hybrid_calendar.outbound.transport` maps them onto httpx's exception tree, so
plugins only ever see ``httpx.TransportError`` subclasses.
"""

from __future__ import annotations


class OutboundError(Exception):
    """Base class of every failure of the outbound HTTP/1.1 pool."""


class ConnectFailed(OutboundError):
    """No connection could be made (refused, unreachable, unknown name, TLS failure)."""


class TimedOut(OutboundError):
    """A deadline passed."""


class ConnectTimedOut(TimedOut):
    """Connecting (TCP and TLS handshake) took longer than the connect timeout."""


class WriteTimedOut(TimedOut):
    """The request could not be written within the write timeout."""


class ReadTimedOut(TimedOut):
    """No further response bytes arrived within the read timeout."""


class PoolTimedOut(TimedOut):
    """No connection slot became free within the pool timeout."""


class Disconnected(OutboundError):
    """The server closed the connection before the response was complete.

    :ivar received: whether any byte of the response had arrived (if none did on a
        reused connection, the pool may send the request once more).
    """

    def __init__(self, message: str, *, received: bool) -> None:
        super().__init__(message)
        self.received = received


class ReadFailed(OutboundError):
    """The socket failed while the request was written or the response read."""


class ProtocolViolation(OutboundError):
    """The answer is not HTTP/1.x, or its framing (length, chunks) is broken."""


class BodyTooLarge(ProtocolViolation):
    """The response body exceeds the pool's ``max_body``.

    :ivar status: the response's status code (the head was read).
    :ivar headers: the response's header fields.
    """

    def __init__(self, message: str, *, status: int,
                 headers: list[tuple[bytes, bytes]]) -> None:
        super().__init__(message)
        self.status = status
        self.headers = headers


class InvalidRequest(OutboundError):
    """A header name or value contains characters that would break the request's framing."""
