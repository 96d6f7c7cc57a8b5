"""Errors of the Webex sink.

Transient failures are the core's own classes, so the engine's one retry policy handles
them like a Google failure: HTTP 429 and 423 become
:class:`~hybrid_calendar.errors.RateLimitError`, 5xx and network errors
:class:`~hybrid_calendar.errors.TransientError`, both with ``retry_after`` from Webex's
``Retry-After`` header. What Webex refuses for good derives from :class:`WebexError`::

    SinkError (core)
    └── WebexError                  a Webex call failed and retrying will not help
        ├── WebexAuthError          the token is rejected (401) or cannot be obtained
        ├── WebexScopeError         the token lacks a scope the call needs (403)
        ├── WebexNotFoundError      the resource or person does not exist (404)
        └── WebexRefusedError       Webex refused the request as it stands (400, 409, ...)

Messages carry Webex's own ``message`` and ``trackingId`` (for Cisco support), never a
token, an address or an event's text.
"""

from __future__ import annotations

from hybrid_calendar.errors import SinkError


class WebexError(SinkError):
    """A Webex call failed and retrying the same request will not help.

    :ivar status: the HTTP status (``None`` when no response arrived).
    :ivar tracking_id: Webex's ``trackingId``, for Cisco support.
    """

    def __init__(self, message: str, *, status: int | None = None,
                 tracking_id: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.tracking_id = tracking_id


class WebexAuthError(WebexError):
    """The access token was rejected (HTTP 401) or could not be obtained or refreshed."""


class WebexScopeError(WebexError):
    """The token lacks a scope the call needs (HTTP 403)."""


class WebexNotFoundError(WebexError):
    """The resource, or the person named by ``hostEmail``/``userEmail``, does not exist."""


class WebexRefusedError(WebexError):
    """Webex refused the request as it stands (400, 409, 415, ...): e.g. a start in the
    past or a duration outside 10 minutes to 24 hours."""


__all__ = ["WebexAuthError", "WebexError", "WebexNotFoundError", "WebexRefusedError",
           "WebexScopeError"]
