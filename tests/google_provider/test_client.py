"""Calling Google: budget per attempt, one token refresh on 401, backoff, error mapping."""

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
from hybrid_calendar_google.backoff import Backoff
from hybrid_calendar_google.client import GoogleClient
from hybrid_calendar_google.discovery import Calendar
from hybrid_calendar_google.quota import QuotaLimiter

from .conftest import CAL, FakeGoogle, error

SETTINGS_PATH = "/calendar/v3/users/me/settings/locale"


@pytest.fixture
def sleeps() -> list[float]:
    return []


@pytest.fixture
def client(sa_info: dict[str, str], http: httpx.AsyncClient, sleeps: list[float]
           ) -> GoogleClient:
    async def sleep(seconds: float) -> None:
        sleeps.append(seconds)

    backoff = Backoff(max_attempts=4, base=1.0, cap=8.0, random=lambda: 1.0, sleep=sleep)
    tokens = TokenSource(ServiceAccount.from_info(sa_info), http, backoff=backoff)
    return GoogleClient(http, tokens, QuotaLimiter(1000, 100), backoff)


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
@pytest.mark.parametrize("failure", [
    error(429, "rateLimitExceeded", "Rate Limit Exceeded"),
    error(403, "rateLimitExceeded", "Rate Limit Exceeded"),
    error(403, "userRateLimitExceeded", "User Rate Limit Exceeded"),
    error(500, "backendError", "Backend Error"),
    httpx.Response(503, text="unavailable"),
])
async def test_retryable_errors_back_off_then_succeed(
        client: GoogleClient, locale_ok: FakeGoogle, sleeps: list[float],
        failure: httpx.Response) -> None:
    locale_ok.failures += [failure, failure]
    assert (await _get_locale(client))["value"] == "de"
    assert sleeps == [1.0, 2.0]
    assert client.quota.project.wait_time(0) == 0 and len(client.quota.project) == 3


@pytest.mark.anyio
async def test_retry_after_is_honoured(client: GoogleClient, locale_ok: FakeGoogle,
                                       sleeps: list[float]) -> None:
    locale_ok.failures.append(error(429, "rateLimitExceeded", "Rate Limit Exceeded",
                                    headers={"Retry-After": "7"}))
    await _get_locale(client)
    assert sleeps == [7.0]


@pytest.mark.anyio
async def test_attempts_are_bounded(client: GoogleClient, locale_ok: FakeGoogle,
                                    sleeps: list[float]) -> None:
    locale_ok.failures += [error(429, "rateLimitExceeded", "Rate Limit Exceeded")] * 10
    with pytest.raises(RateLimitError, match="HTTP 429 rateLimitExceeded") as caught:
        await _get_locale(client)
    assert caught.value.status == 429
    assert len(sleeps) == 3 and len(locale_ok.api_requests()) == 4


@pytest.mark.anyio
async def test_5xx_exhaustion_is_transient(client: GoogleClient, locale_ok: FakeGoogle) -> None:
    locale_ok.failures += [error(503, "backendError", "Backend Error")] * 4
    with pytest.raises(TransientError, match="HTTP 503"):
        await _get_locale(client)


@pytest.mark.anyio
async def test_401_refreshes_the_token_once(client: GoogleClient, locale_ok: FakeGoogle,
                                            sleeps: list[float]) -> None:
    await _get_locale(client)
    locale_ok.failures.append(error(401, "authError", "Invalid Credentials"))
    await _get_locale(client)
    tokens = [r.headers["authorization"] for r in locale_ok.api_requests()]
    assert tokens == ["Bearer ya29.t1", "Bearer ya29.t1", "Bearer ya29.t2"]
    assert sleeps == []


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
        client: GoogleClient, locale_ok: FakeGoogle, sleeps: list[float],
        failure: httpx.Response, exc: type[ProviderError], reason: str) -> None:
    locale_ok.failures.append(failure)
    with pytest.raises(exc) as caught:
        await _get_locale(client)
    assert type(caught.value) is exc
    assert caught.value.reason == reason and caught.value.status == failure.status_code
    assert sleeps == [] and len(locale_ok.api_requests()) == 1


@pytest.mark.anyio
async def test_network_errors_are_retried(sa_info: dict[str, str]) -> None:
    calls = {"n": 0}

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/token":
            return httpx.Response(200, json={"access_token": "t", "expires_in": 3600})
        calls["n"] += 1
        if calls["n"] == 1:
            raise httpx.ConnectError("refused", request=request)
        return httpx.Response(200, json={"value": "en"})

    async def sleep(_: float) -> None:
        return None

    async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as http:
        backoff = Backoff(sleep=sleep)
        tokens = TokenSource(ServiceAccount.from_info(sa_info, "https://x.test/token"), http)
        client = GoogleClient(http, tokens, QuotaLimiter(10, 10), backoff)
        assert (await _get_locale(client))["value"] == "en"
    assert calls["n"] == 2


@pytest.mark.anyio
async def test_requests_ask_google_for_gzip(client: GoogleClient, locale_ok: FakeGoogle
                                            ) -> None:
    await _get_locale(client)
    request = locale_ok.api_requests()[0]
    # Google compresses only when both ask for it (performance guide)
    assert "(gzip)" in request.headers["user-agent"]
    assert request.headers["accept-encoding"] == "gzip"
