"""One Webex REST call at a time: rate budget, bearer token, errors mapped at the edge.

Every call first takes a unit of the organisation's :class:`~.budget.RateBudget`, then
sends one request on the gateway's shared ``httpx.AsyncClient``. The client never retries
a failure itself: retries live in one layer, the core's (the engine's job queue for a
sync, the notification outbox for a delivery), which waits at least ``Retry-After``:

=====================  ===================================================================
Webex answers          raised
=====================  ===================================================================
2xx                    (the JSON body, or ``None`` for 204)
401                    the token is refreshed and the request sent once more (a new
                       token, not a retry of a failure); a second 401:
                       :class:`~.errors.WebexAuthError`
403                    :class:`~.errors.WebexScopeError`
404                    :class:`~.errors.WebexNotFoundError`
423, 429               :class:`~hybrid_calendar.errors.RateLimitError` with ``retry_after``
5xx, network error     :class:`~hybrid_calendar.errors.TransientError` (``retry_after`` if
                       given)
other 4xx              :class:`~.errors.WebexRefusedError` with Webex's ``message``
=====================  ===================================================================
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING, Any

import httpx

from hybrid_calendar.errors import RateLimitError, TransientError
from hybrid_calendar_webex.errors import (
    WebexAuthError,
    WebexError,
    WebexNotFoundError,
    WebexRefusedError,
    WebexScopeError,
)

if TYPE_CHECKING:
    from hybrid_calendar_webex.budget import RateBudget
    from hybrid_calendar_webex.tokens import OrgTokens


_EMAIL = re.compile(r"[^\s@]+@[^\s@]+")
"""Addresses in Webex's error messages ("No user found with email ...") are redacted."""


class WebexClient:
    """Calls to the Webex REST API for one organisation.

    :param http: the gateway's shared client.
    :param tokens: the organisation's token source.
    :param budget: the rate budget every call passes.
    :param key: the budget key (the organisation id).
    """

    def __init__(self, http: httpx.AsyncClient, tokens: OrgTokens, budget: RateBudget,
                 key: str) -> None:
        self._http = http
        self.tokens = tokens
        self._budget = budget
        self._key = key
        self.calls = 0
        """Requests sent (for the benchmark and tests)."""

    async def call(self, method: str, path: str, *, params: Mapping[str, Any] | None = None,
                   json: Any = None, bearer: str | None = None) -> Any:
        """Send one request; the decoded JSON answer (``None`` for an empty one).

        :param path: below the API base, e.g. ``/meetings``.
        :param bearer: a token to use instead of the organisation's (the bot's).
        """
        token = bearer or await self.tokens.access_token()
        response = await self._send(method, path, params, json, token)
        if response.status_code == 401 and bearer is None and \
                await self.tokens.invalidate(token):
            response = await self._send(method, path, params, json,
                                        await self.tokens.access_token())
        return _decode(response)

    async def _send(self, method: str, path: str, params: Mapping[str, Any] | None,
                    json: Any, token: str) -> httpx.Response:
        await self._budget.acquire(self._key)
        self.calls += 1
        try:
            return await self._http.request(
                method, self.tokens.base_url + path, params=params, json=json,
                headers={"Authorization": f"Bearer {token}"})
        except httpx.HTTPError as err:
            raise TransientError(f"Webex unreachable ({method} {_route(path)}): "
                                 f"{type(err).__name__}") from err


def _route(path: str) -> str:
    """The path's first segment (ids in paths are not logged)."""
    return "/" + path.strip("/").split("/", 1)[0]


def retry_after(response: httpx.Response) -> float | None:
    """Seconds asked for by ``Retry-After`` (delta-seconds or an HTTP date), or ``None``."""
    value = response.headers.get("Retry-After")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
        date = response.headers.get("Date")
        sent = parsedate_to_datetime(date) if date else datetime.now(UTC)
        return max(0.0, (when - sent).total_seconds())
    except (TypeError, ValueError):  # unparsable, or naive beside aware
        return None


def _decode(response: httpx.Response) -> Any:
    status = response.status_code
    if status < 300:
        if status == 204 or not response.content:
            return None
        try:
            return response.json()
        except ValueError:
            raise WebexRefusedError(f"Webex answered {status} without JSON",
                                    status=status) from None
    message, tracking = _error_detail(response)
    where = f"{response.request.method} {_route(response.request.url.path.split('/v1', 1)[-1])}"
    text = f"Webex {where} answered {status}: {message}"
    if tracking:
        text += f" (trackingId {tracking})"
    if status in (423, 429):
        raise RateLimitError(text, status=status, retry_after=retry_after(response))
    if status >= 500:
        raise TransientError(text, status=status, retry_after=retry_after(response))
    kind: type[WebexError] = {401: WebexAuthError, 403: WebexScopeError,
                              404: WebexNotFoundError}.get(status, WebexRefusedError)
    raise kind(text, status=status, tracking_id=tracking)


def _error_detail(response: httpx.Response) -> tuple[str, str | None]:
    tracking = response.headers.get("TrackingID")
    try:
        body = response.json()
    except ValueError:
        return "no details", tracking
    if not isinstance(body, dict):
        return "no details", tracking
    message = _EMAIL.sub("<address>", str(body.get("message") or "no details"))[:300]
    return message, str(body.get("trackingId") or tracking or "") or None
