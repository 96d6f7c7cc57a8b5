"""Failure handling against the emulator: injected rate limits, 5xx, 401, 410, revoked DWD."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

import pytest

from hybrid_calendar.errors import (
    AccessDeniedError,
    ProviderError,
    RateLimitError,
    SyncTokenExpiredError,
    TransientError,
)
from hybrid_calendar.models import Channel, User, UserState

from .conftest import emulator_settings

ALICE = User(id="u1", org_id="org1", email="alice@example.com", state=UserState.ACTIVE)
LIST = "calendar.events.list"


def _statuses(emulator: Any, operation: str = LIST) -> list[int]:
    return [r.status for r in emulator.state.request_log if r.operation == operation]


@pytest.mark.anyio
@pytest.mark.parametrize(("status", "reason", "exc"), [
    (429, "rateLimitExceeded", RateLimitError), (403, "rateLimitExceeded", RateLimitError),
    (403, "userRateLimitExceeded", RateLimitError), (500, "backendError", TransientError),
    (503, None, TransientError),
])
async def test_retryable_failures_are_raised_for_the_engine_to_retry(
        emu_gateway: Any, emulator: Any, status: int, reason: str | None,
        exc: type[ProviderError]) -> None:
    """One request per hook call: retrying is the engine's job (tests/engine counts it)."""
    rule: dict[str, Any] = {"status": status, "count": 2, "path": "/events$",
                            "retry_after": 30}
    if reason:
        rule["reason"] = reason
    emulator.control({"errors": [rule]})
    with pytest.raises(exc, match=f"HTTP {status}") as caught:
        await emu_gateway.hooks.fetch_changes(emu_gateway, ALICE, None)
    assert caught.value.retry_after == 30.0
    assert _statuses(emulator) == [status]


@pytest.mark.anyio
async def test_expired_sync_token_then_full_sync(emu_gateway: Any, emulator: Any) -> None:
    first = await emu_gateway.hooks.fetch_changes(emu_gateway, ALICE, None)
    emulator.state.invalidate_sync_tokens("alice@example.com")
    with pytest.raises(SyncTokenExpiredError) as caught:
        await emu_gateway.hooks.fetch_changes(emu_gateway, ALICE, first.next_cursor)
    assert caught.value.status == 410 and caught.value.reason == "fullSyncRequired"
    again = await emu_gateway.hooks.fetch_changes(emu_gateway, ALICE, None)
    assert again.full_sync and again.next_cursor != first.next_cursor


@pytest.mark.anyio
async def test_expired_access_token_is_refreshed_once(emu_gateway: Any, emulator: Any) -> None:
    await emu_gateway.hooks.read_locale(emu_gateway, ALICE)
    emulator.control({"expire_access_tokens": "alice@example.com"})
    assert await emu_gateway.hooks.read_locale(emu_gateway, ALICE) == "en"
    assert _statuses(emulator, "calendar.settings.get") == [200, 401, 200]


@pytest.mark.anyio
async def test_revoked_delegation(emu_gateway: Any, emulator: Any) -> None:
    emulator.state.revoke_delegation("alice@example.com")
    check = await emu_gateway.hooks.check_access(emu_gateway, ALICE)
    assert not check.ok and check.reason is not None
    assert "Domain-wide delegation" in check.reason and "@" not in check.reason
    with pytest.raises(AccessDeniedError, match="Domain-wide delegation") as caught:
        await emu_gateway.hooks.fetch_changes(emu_gateway, ALICE, None)
    assert caught.value.reason == "unauthorized_client"
    assert _statuses(emulator) == []


@pytest.mark.anyio
async def test_revocation_after_tokens_were_cached(emu_gateway: Any, emulator: Any) -> None:
    assert (await emu_gateway.hooks.check_access(emu_gateway, ALICE)).ok
    emulator.state.revoke_delegation("alice@example.com")
    with pytest.raises(AccessDeniedError, match="Domain-wide delegation"):
        await emu_gateway.hooks.fetch_changes(emu_gateway, ALICE, None)


@pytest.mark.anyio
async def test_suspended_user(emu_gateway: Any, emulator: Any) -> None:
    emulator.state.suspend_user("alice@example.com")
    check = await emu_gateway.hooks.check_access(emu_gateway, ALICE)
    assert not check.ok and "suspended" in (check.reason or "")


@pytest.mark.anyio
async def test_unknown_user(emu_gateway: Any) -> None:
    stranger = User(id="u9", org_id="org1", email="nobody@example.com")
    check = await emu_gateway.hooks.check_access(emu_gateway, stranger)
    assert not check.ok and "does not know this user" in (check.reason or "")
    assert "nobody" not in (check.reason or "")


@pytest.mark.anyio
async def test_budget_waits_before_google_has_to_refuse(make_gateway: Any,
                                                        emulator: Any) -> None:
    from hybrid_calendar_google.context import context
    from hybrid_calendar_google.quota import QuotaLimiter

    from .test_quota import FakeTime

    gateway = await make_gateway(emulator_settings(emulator), quota={"user_per_minute": 5})
    time = FakeTime()  # the budget's clock: a wait moves it instead of sleeping
    requests_when_waiting: list[int] = []

    async def wait(seconds: float) -> None:
        requests_when_waiting.append(len(_statuses(emulator, "calendar.settings.get")))
        await time.sleep(seconds)

    configured = context(gateway).quota
    context(gateway).quota = QuotaLimiter(configured.project.limit,
                                          configured.user_per_minute,
                                          monotonic=time.monotonic, sleep=wait)
    for _ in range(6):
        await gateway.hooks.read_locale(gateway, ALICE)
    assert requests_when_waiting == [5]  # the 6th call waited before reaching Google
    assert time.sleeps == [pytest.approx(60.0)]  # until the 1st left the one-minute window
    assert _statuses(emulator, "calendar.settings.get") == [200] * 6
    bob = User(id="u2", org_id="org1", email="bob@example.com", state=UserState.ACTIVE)
    assert await gateway.hooks.read_locale(gateway, bob) == "en"  # other users go on
    assert len(time.sleeps) == 1


@pytest.mark.anyio
async def test_plugin_logs_carry_no_addresses_or_tokens(emu_gateway: Any, emulator: Any,
                                                        caplog: pytest.LogCaptureFixture
                                                        ) -> None:
    caplog.set_level(logging.DEBUG, logger="hybrid_calendar_google")
    emulator.control({"token_errors": [{"status": 503, "count": 1}]})
    with pytest.raises(TransientError):
        await emu_gateway.hooks.fetch_changes(emu_gateway, ALICE, None)
    emulator.control({"expire_access_tokens": "alice@example.com"})
    await emu_gateway.hooks.read_locale(emu_gateway, ALICE)
    emulator.state.revoke_delegation("alice@example.com")
    channel = Channel("c1", "u1", "R1", "secret-channel-token",
                      datetime(2030, 1, 1, tzinfo=UTC))
    assert await emu_gateway.hooks.stop_watch(emu_gateway, ALICE, channel) is False
    records = [r for r in caplog.records if r.name.startswith("hybrid_calendar_google")]
    assert len(records) >= 2  # the failed grant and the refused stop were logged
    text = "\n".join(r.getMessage() for r in records)
    assert "@" not in text and "%40" not in text and "alice" not in text
    assert "secret-channel-token" not in text and "Bearer" not in text
