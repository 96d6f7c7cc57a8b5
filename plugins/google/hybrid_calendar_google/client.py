"""Executing Google API calls: budget, token, send, and error mapping.

:class:`GoogleClient` is framework-free: it takes the shared ``httpx.AsyncClient``, a
:class:`~hybrid_calendar_google.auth.TokenSource` and a
:class:`~hybrid_calendar_google.quota.QuotaLimiter`. Every request first takes budget.
A failing call is made once and raised: the gateway retries in one layer only, the
engine's job queue (:mod:`hybrid_calendar.engine.retries`), which re-runs the job later.

* 403 ``rateLimitExceeded``/``userRateLimitExceeded`` and 429 are :class:`RateLimitError`,
  5xx, 408 and network errors :class:`TransientError`; both carry ``retry_after`` from
  Google's ``Retry-After`` header, which the engine honours.
* 401 drops the cached token and sends the request once more with a fresh one (the old
  token may just have expired; this is not a retry of a failure); a second 401 is
  :class:`AuthError`. A refusal of the push address (reason ``push.*``, e.g. a 401
  ``push.webhookUrlUnauthorized``: a domain not verified for the project) says nothing
  about the token: it is a :class:`ProviderError` at once, worded for the address.
* 403 ``quotaExceeded``/``dailyLimitExceeded`` is :class:`RateLimitError`; other 403s on
  the user's data are :class:`AccessDeniedError`, except ``forbiddenForNonOrganizer``
  which is a plain :class:`ProviderError`.
* 410 ``fullSyncRequired``/``updatedMinTooLongAgo`` is :class:`SyncTokenExpiredError`;
  412 is :class:`PreconditionFailedError`; anything else is :class:`ProviderError` with
  ``status`` and ``reason`` set.

Error messages carry the method id, status and Google's reason, never addresses or tokens.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import httpx

from hybrid_calendar import __version__
from hybrid_calendar.errors import (
    AccessDeniedError,
    AuthError,
    PreconditionFailedError,
    ProviderError,
    RateLimitError,
    SyncTokenExpiredError,
    TransientError,
)
from hybrid_calendar.outbound.client import url_with_query
from hybrid_calendar_google.auth import TokenSource
from hybrid_calendar_google.discovery import ApiMethod
from hybrid_calendar_google.quota import QuotaLimiter
from hybrid_calendar_google.retry_after import parse_retry_after

RATE_LIMIT_REASONS = frozenset({"rateLimitExceeded", "userRateLimitExceeded"})
QUOTA_REASONS = frozenset({"quotaExceeded", "dailyLimitExceeded"})
SYNC_EXPIRED_REASONS = frozenset({"fullSyncRequired", "updatedMinTooLongAgo"})
PUSH_REASON_PREFIX = "push."
"""Reasons Google gives when it refuses a channel's push address (``push.webhookUrlNotHttps``,
``push.webhookUrlUnauthorized``)."""


@dataclass(frozen=True, slots=True)
class GoogleErrorBody:
    """The parts of Google's error envelope the gateway looks at."""

    code: int
    reason: str | None
    message: str

    @classmethod
    def parse(cls, response: httpx.Response) -> GoogleErrorBody:
        """Read ``{"error": {"errors": [{"reason": ...}], "code": ..., "message": ...}}``."""
        reason: str | None = None
        message = ""
        try:
            error = response.json().get("error", {})
        except (ValueError, AttributeError):
            error = {}
        if isinstance(error, dict):
            errors = error.get("errors") or []
            if errors and isinstance(errors[0], dict):
                reason = errors[0].get("reason")
            reason = reason or error.get("status")
            message = str(error.get("message", ""))
        elif isinstance(error, str):  # OAuth-style {"error": "invalid_token"}
            reason = error
        return cls(response.status_code, reason, message)


class GoogleClient:
    """Sends discovery-built requests for a user, with budget, token and error mapping.

    :param http: the shared outbound client.
    :param tokens: per-user token source.
    :param quota: outbound budgets.
    """

    def __init__(self, http: httpx.AsyncClient, tokens: TokenSource,
                 quota: QuotaLimiter) -> None:
        self.http = http
        self.tokens = tokens
        self.quota = quota
        self._headers: dict[str, tuple[str, httpx.Headers]] = {}
        """Per subject: its current access token and the request headers built for it."""

    async def call(self, subject: str, method: ApiMethod, base_url: str, *,
                   body: Mapping[str, Any] | None = None,
                   headers: Mapping[str, str] | None = None,
                   **params: Any) -> dict[str, Any]:
        """Call ``method`` as ``subject`` and return the decoded JSON body (``{}`` if empty).

        :param subject: the user to act as (delegation ``sub``); also the budget key.
        :param base_url: the API base URL (Calendar or Gmail).
        :param body: JSON request body, for methods that take one.
        :param headers: extra headers, e.g. ``If-Match``.
        :raises ProviderError: (a subclass of) as described in the module docstring; a
            rate limit or transient failure is raised at once, with ``retry_after``.
        """
        prepared = method.prepare(base_url, body, **params)
        http = self.http
        # an absolute URL is used as it is whatever the client's base_url; the client's
        # own query parameters (none on the gateway's) would need httpx's merge
        direct = not http.params and prepared.url.startswith(("https://", "http://"))
        url = url_with_query(prepared.url, prepared.params) if direct else prepared.url
        refreshed = False
        while True:
            await self.quota.acquire(subject, QUOTA_UNITS.get(method.id, 1))
            token = await self.tokens.token(subject)
            request_headers = self._headers_for(subject, token)
            if headers:
                request_headers = httpx.Headers(request_headers)
                request_headers.update(headers)
            try:
                if direct:  # what http.build_request makes, without its merges each time
                    response = await http.send(httpx.Request(
                        prepared.method, url, headers=request_headers, json=prepared.body,
                        cookies=http.cookies or None))  # send() adds the timeout
                else:
                    response = await http.request(
                        prepared.method, prepared.url, params=prepared.params,
                        json=prepared.body, headers=request_headers)
            except httpx.TransportError as err:
                raise TransientError(
                    f"{method.id}: network error ({type(err).__name__})") from err
            if response.status_code < 300:
                return _decode(response)
            error = GoogleErrorBody.parse(response)
            if response.status_code == 401 and not refreshed and not is_push_refusal(error):
                refreshed = True
                self.tokens.invalidate(subject, token)
                continue
            failure = map_error(method.id, error)
            if isinstance(failure, RateLimitError | TransientError):
                failure.retry_after = parse_retry_after(response.headers.get("Retry-After"))
            try:
                raise failure
            finally:  # the traceback holds this frame: no cycle through the local
                del failure

    def _headers_for(self, subject: str, token: str) -> httpx.Headers:
        """The request headers for ``subject``'s ``token``, merged with the client's own
        as ``httpx.AsyncClient.build_request`` merges them (the client's, then these
        replacing any of the same name), once per token: httpx normalises every header it
        is handed, a ``Headers`` object it only copies. One set per subject: a refreshed
        token replaces the expired one's."""
        kept = self._headers.get(subject)
        if kept is not None and kept[0] == token:
            return kept[1]
        built = httpx.Headers(self.http.headers)
        built.update({"Authorization": f"Bearer {token}", "Accept": "application/json",
                      **COMPRESSED})
        self._headers[subject] = (token, built)
        return built


def _decode(response: httpx.Response) -> dict[str, Any]:
    if not response.content:
        return {}
    data = response.json()
    return data if isinstance(data, dict) else {"value": data}


QUOTA_UNITS: dict[str, int] = {"calendar.events.patch": 3, "calendar.calendars.patch": 3,
                               "calendar.calendarList.patch": 3, "calendar.acl.patch": 3}
"""Quota units per call where Google counts more than one: every Calendar ``patch`` costs
3 ("prefer using a get followed by an update", each 1); every other method costs 1. The
budget (:class:`~hybrid_calendar_google.quota.QuotaLimiter`) takes these units, and the
emulator charges from the same table (a test holds the two equal)."""

USER_AGENT = f"hybrid-calendar/{__version__} (gzip)"
"""Google sends gzip only when the user agent contains "gzip" (performance guide)."""

COMPRESSED = {"User-Agent": USER_AGENT, "Accept-Encoding": "gzip"}
"""Headers asking Google for gzip-compressed responses."""


def is_push_refusal(error: GoogleErrorBody) -> bool:
    """True when Google refused a channel's push address (whatever the status)."""
    return bool(error.reason and error.reason.startswith(PUSH_REASON_PREFIX))


def map_error(method_id: str, error: GoogleErrorBody) -> ProviderError:
    """Translate an HTTP error from Google into the core exception tree."""
    code, reason = error.code, error.reason
    where = f"{method_id}: HTTP {code}" + (f" {reason}" if reason else "")
    kwargs: dict[str, Any] = {"status": code, "reason": reason}
    if is_push_refusal(error):  # the address, not the token nor the user's data
        return ProviderError(f"{where}: Google will not send notifications to the gateway's "
                             "push address; it must be HTTPS with a publicly trusted "
                             "certificate, on a domain verified for the service account's "
                             "project (google.push_address, else gateway.public_url).",
                             **kwargs)
    if code == 401:
        return AuthError(f"{where}: Google rejected a freshly minted access token; check "
                         "the service account and its domain-wide delegation.", **kwargs)
    if code == 429 or (code == 403 and reason in RATE_LIMIT_REASONS):
        return RateLimitError(f"{where}: rate limited by Google; the job is retried later.",
                              **kwargs)
    if code == 403 and reason in QUOTA_REASONS:
        return RateLimitError(f"{where}: Google usage limit exceeded; lower quota.* or "
                              "wait for the limit to reset.", **kwargs)
    if code == 403 and reason == "forbiddenForNonOrganizer":
        return ProviderError(f"{where}: only the organiser may change this event.", **kwargs)
    if code == 403 and reason == "accessNotConfigured":
        return AuthError(f"{where}: the API is not enabled in the service account's "
                         "Google Cloud project; enable it in the Cloud console.", **kwargs)
    if code == 403:
        return AccessDeniedError(f"{where}: Google denied access to this user's data; "
                                 "check that the user has Google Calendar/Gmail enabled and "
                                 "that domain-wide delegation covers the scopes.", **kwargs)
    if code == 410 and (reason in SYNC_EXPIRED_REASONS or method_id.endswith("events.list")):
        return SyncTokenExpiredError(f"{where}: sync token expired; a full sync is needed.",
                                     **kwargs)
    if code == 412:
        return PreconditionFailedError(f"{where}: the event changed since it was read.",
                                       **kwargs)
    if code >= 500 or code == 408:
        return TransientError(f"{where}: Google failed; the job is retried later.", **kwargs)
    return ProviderError(f"{where}.", **kwargs)
