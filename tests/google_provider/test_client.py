"""Calling Google: budget per request, one token refresh on 401, no retries, error mapping."""

from __future__ import annotations

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
from hybrid_calendar_google.auth import ServiceAccount, TokenSource
from hybrid_calendar_google.client import GoogleClient
from hybrid_calendar_google.discovery import Calendar
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
