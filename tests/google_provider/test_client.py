"""Calling Google: budget per request, one token refresh on 401, no retries, error mapping."""

from __future__ import annotations

import contextlib
import gc
import weakref
from typing import Any

import httpx
import pytest

from hybrid_calendar.errors import (
    AccessDeniedError,
    AuthError,
    PreconditionFailedError,
    ProviderError,
    RateLimitError,
    SyncTokenExpiredError,
    TransientError,
)
from hybrid_calendar.outbound.client import CookielessClient
from hybrid_calendar_google.auth import ServiceAccount, TokenSource
from hybrid_calendar_google.client import COMPRESSED, GoogleClient
from hybrid_calendar_google.discovery import ApiMethod, Calendar, Gmail
from hybrid_calendar_google.quota import QuotaLimiter

from .conftest import CAL, FakeGoogle, error

SETTINGS_PATH = "/calendar/v3/users/me/settings/locale"


@pytest.fixture
def client(sa_info: dict[str, str], http: httpx.AsyncClient) -> GoogleClient:
    tokens = TokenSource(ServiceAccount.from_info(sa_info), http)
    return GoogleClient(http, tokens, QuotaLimiter(1000, 100))


@pytest.fixture
def locale_ok(fake: FakeGoogle) -> FakeGoogle:
    fake.routes[("GET", SETTINGS_PATH)] = lambda r: httpx.Response(
        200, json={"kind": "calendar#setting", "id": "locale", "value": "de"})
    return fake


async def _get_locale(client: GoogleClient) -> dict[str, object]:
    return await client.call("a@example.com", Calendar.settings_get, CAL, setting="locale")


@pytest.mark.anyio
async def test_success_sends_bearer_token(client: GoogleClient, locale_ok: FakeGoogle) -> None:
    assert (await _get_locale(client))["value"] == "de"
    request = locale_ok.api_requests()[0]
    assert request.headers["authorization"] == "Bearer ya29.t1"
    assert request.url.params["alt"] == "json"


@pytest.mark.anyio
@pytest.mark.parametrize(("failure", "exc"), [
    (error(429, "rateLimitExceeded", "Rate Limit Exceeded"), RateLimitError),
    (error(403, "rateLimitExceeded", "Rate Limit Exceeded"), RateLimitError),
    (error(403, "userRateLimitExceeded", "User Rate Limit Exceeded"), RateLimitError),
    (error(500, "backendError", "Backend Error"), TransientError),
    (httpx.Response(503, text="unavailable"), TransientError),
])
async def test_retryable_errors_are_raised_after_one_request(
        client: GoogleClient, locale_ok: FakeGoogle, failure: httpx.Response,
        exc: type[ProviderError]) -> None:
    """The engine's job queue is the one retry layer: the client asks Google once."""
    locale_ok.failures += [failure, failure]
    with pytest.raises(exc, match=f"HTTP {failure.status_code}") as caught:
        await _get_locale(client)
    assert caught.value.status == failure.status_code and caught.value.retry_after is None
    assert len(locale_ok.api_requests()) == 1 and len(client.quota.project) == 1


@pytest.mark.anyio
@pytest.mark.parametrize("header", ["7", "Wed, 21 Oct 2065 07:28:00 GMT"])
async def test_retry_after_travels_with_the_error(client: GoogleClient, locale_ok: FakeGoogle,
                                                  header: str) -> None:
    locale_ok.failures.append(error(429, "rateLimitExceeded", "Rate Limit Exceeded",
                                    headers={"Retry-After": header}))
    with pytest.raises(RateLimitError) as caught:
        await _get_locale(client)
    assert caught.value.retry_after is not None and caught.value.retry_after >= 7.0
    assert len(locale_ok.api_requests()) == 1


@pytest.mark.anyio
async def test_401_refreshes_the_token_once(client: GoogleClient, locale_ok: FakeGoogle
                                            ) -> None:
    await _get_locale(client)
    locale_ok.failures.append(error(401, "authError", "Invalid Credentials"))
    await _get_locale(client)
    tokens = [r.headers["authorization"] for r in locale_ok.api_requests()]
    assert tokens == ["Bearer ya29.t1", "Bearer ya29.t1", "Bearer ya29.t2"]


@pytest.mark.anyio
async def test_second_401_is_auth_error(client: GoogleClient, locale_ok: FakeGoogle) -> None:
    locale_ok.failures += [error(401, "authError", "Invalid Credentials")] * 2
    with pytest.raises(AuthError, match="HTTP 401"):
        await _get_locale(client)
    assert locale_ok.issued == 2


@pytest.mark.anyio
@pytest.mark.parametrize(("failure", "exc", "reason"), [
    (error(403, "forbidden", "Forbidden"), AccessDeniedError, "forbidden"),
    (error(403, "quotaExceeded", "Calendar usage limits exceeded."), RateLimitError,
     "quotaExceeded"),
    (error(403, "forbiddenForNonOrganizer", "Shared properties..."), ProviderError,
     "forbiddenForNonOrganizer"),
    (error(410, "fullSyncRequired", "Sync token is no longer valid"), SyncTokenExpiredError,
     "fullSyncRequired"),
    (error(412, "conditionNotMet", "Precondition Failed"), PreconditionFailedError,
     "conditionNotMet"),
    (error(400, "badRequest", "Bad Request"), ProviderError, "badRequest"),
])
async def test_non_retryable_errors_map_at_once(
        client: GoogleClient, locale_ok: FakeGoogle,
        failure: httpx.Response, exc: type[ProviderError], reason: str) -> None:
    locale_ok.failures.append(failure)
    with pytest.raises(exc) as caught:
        await _get_locale(client)
    assert type(caught.value) is exc
    assert caught.value.reason == reason and caught.value.status == failure.status_code
    assert len(locale_ok.api_requests()) == 1


@pytest.mark.anyio
async def test_network_errors_are_transient(sa_info: dict[str, str]) -> None:
    calls = {"n": 0}

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/token":
            return httpx.Response(200, json={"access_token": "t", "expires_in": 3600})
        calls["n"] += 1
        raise httpx.ConnectError("refused", request=request)

    async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as http:
        tokens = TokenSource(ServiceAccount.from_info(sa_info, "https://x.test/token"), http)
        client = GoogleClient(http, tokens, QuotaLimiter(10, 10))
        with pytest.raises(TransientError, match="network error \\(ConnectError\\)"):
            await _get_locale(client)
    assert calls["n"] == 1


@pytest.mark.anyio
async def test_requests_ask_google_for_gzip(client: GoogleClient, locale_ok: FakeGoogle
                                            ) -> None:
    await _get_locale(client)
    request = locale_ok.api_requests()[0]
    # Google compresses only when both ask for it (performance guide)
    assert "(gzip)" in request.headers["user-agent"]
    assert request.headers["accept-encoding"] == "gzip"


SENT_CALLS: list[tuple[ApiMethod, str, dict[str, Any], dict[str, Any] | None,
                       dict[str, str] | None]] = [
    (Calendar.settings_list, CAL, {"pageToken": None}, None, None),
    (Calendar.settings_list, CAL, {"pageToken": "tok/+=en ü"}, None, None),
    (Calendar.events_get, CAL, {"calendarId": "a@example.com",
                                "eventId": "eventthatdoesnotexist"}, None, None),
    (Gmail.get_vacation, "https://gmail.test", {"userId": "me"}, None, None),
    (Calendar.events_watch, CAL, {"calendarId": "a+b@example.com"},
     {"id": "c1", "type": "web_hook", "address": "https://gw.test/push", "token": "t",
      "params": {"ttl": "604800"}}, None),
    (Calendar.channels_stop, CAL, {}, {"id": "c1", "resourceId": "r/1"}, None),
    (Calendar.events_list, CAL, {"calendarId": "primary", "singleEvents": True,
                                 "timeMin": "2026-11-01T00:00:00+01:00", "maxResults": 2500,
                                 "showDeleted": False, "pageToken": "CAES~x_y.z"},
     None, None),
    (Calendar.events_patch, CAL, {"calendarId": "a@example.com", "eventId": "e1",
                                  "sendUpdates": "none", "conferenceDataVersion": 1},
     {"location": "Room 9 @webex", "summary": "Zürich ✓"}, {"If-Match": '"etag-1"'}),
]


@pytest.mark.anyio
@pytest.mark.parametrize("cookieless", [False, True])
async def test_every_call_sends_what_httpx_build_request_made(
        sa_info: dict[str, str], fake: FakeGoogle, cookieless: bool) -> None:
    """The request a call sends equals the one ``http.request`` built before (the same
    method, URL, headers in the same order, body and extensions), over a plain httpx
    client and over the gateway's own."""
    transport = httpx.MockTransport(fake.handle)
    http = (CookielessClient(transport=transport) if cookieless
            else httpx.AsyncClient(transport=transport))
    async with http:
        tokens = TokenSource(ServiceAccount.from_info(sa_info), http)
        client = GoogleClient(http, tokens, QuotaLimiter(1000, 100))
        for method, base, params, body, extra in SENT_CALLS:
            with contextlib.suppress(ProviderError):  # the fake knows none of them: 404
                await client.call("a@example.com", method, base, body=body, headers=extra,
                                  **params)
            sent = fake.api_requests()[-1]
            prepared = method.prepare(base, body, **params)
            token = await tokens.token("a@example.com")
            headers = httpx.Headers({"Authorization": f"Bearer {token}",
                                     "Accept": "application/json", **COMPRESSED})
            headers.update(extra or {})
            made = http.build_request(prepared.method, prepared.url, params=prepared.params,
                                      json=prepared.body, headers=headers)
            assert (sent.method, str(sent.url), sent.headers.raw, sent.read(),
                    sent.extensions) == (made.method, str(made.url), made.headers.raw,
                                         made.read(), made.extensions), method.id


@pytest.mark.anyio
async def test_a_raised_error_is_freed_without_the_cyclic_collector(
        client: GoogleClient, locale_ok: FakeGoogle) -> None:
    """The error's traceback holds the call's frame: were the error also a local of that
    frame, each error (with the response and request the frame holds) would wait for
    the collector's next pass (a 404 is the answer for any event read that is gone)."""
    await _get_locale(client)  # the token is minted: nothing lazy below
    locale_ok.failures.append(error(404, "notFound", "Not Found"))
    gc.collect()
    gc.disable()
    try:
        try:
            await _get_locale(client)
        except ProviderError as caught:
            freed = weakref.ref(caught)
        assert freed() is None
    finally:
        gc.enable()
