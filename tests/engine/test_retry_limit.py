"""One retry layer, end to end: a call that keeps failing reaches Google job_max_attempts times.

The gateway runs against the Google emulator, whose fault injection fails every matching
request until cleared. The engine's job queue is the only component that retries (the
Google client and its token source ask once and raise), so however much time passes the
emulator sees exactly ``sync.job_max_attempts`` requests; then the job is parked. Time
moves on the gateway's manual clock, never by sleeping, and ``Retry-After`` is obeyed.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from .conftest import ALICE, CAROL, RETRY_BASE, RETRY_CAP, Stack

pytestmark = pytest.mark.anyio

MAX_ATTEMPTS = 4


def _events_lists(stack: Stack) -> list[int]:
    return [r.status for r in stack.emu.state.request_log
            if r.user == ALICE and r.operation == "calendar.events.list"]


def _limit_attempts(stack: Stack) -> None:
    stack.gateway.config = stack.gateway.config.replace("sync",
                                                        job_max_attempts=MAX_ATTEMPTS)


async def _advance_far_beyond_every_retry(stack: Stack) -> None:
    """Let much more time pass than all retries together could take."""
    for _ in range(3 * MAX_ATTEMPTS):
        await stack.advance(RETRY_CAP)


@pytest.mark.parametrize(("status", "reason"), [(503, "backendError"),
                                                (429, "rateLimitExceeded"),
                                                (403, "userRateLimitExceeded")])
async def test_a_persistent_failure_reaches_google_job_max_attempts_times(
        stack: Stack, status: int, reason: str) -> None:
    await stack.activate(ALICE)
    before = len(_events_lists(stack))
    _limit_attempts(stack)
    stack.emu.control({"errors": [{"status": status, "reason": reason, "rate": 1.0,
                                   "path": "/events$", "method": "GET"}]})
    await stack.engine.request_sync(stack.user_ids[ALICE], "test")
    await stack.idle()
    assert _events_lists(stack)[before:] == [status]  # one request, no in-call retry
    await stack.advance(RETRY_BASE)  # full jitter: the first retry is due within the base
    assert _events_lists(stack)[before:] == [status] * 2
    await _advance_far_beyond_every_retry(stack)
    assert _events_lists(stack)[before:] == [status] * MAX_ATTEMPTS
    assert await stack.gateway.store.job_counts() == {"parked": 1}
    stack.emu.control({"clear_errors": True})  # Google is back: the next request succeeds
    await stack.engine.request_sync(stack.user_ids[ALICE], "recovered")
    await stack.idle()
    assert _events_lists(stack)[-1] == 200


async def test_retry_after_is_obeyed_and_the_limit_still_holds(stack: Stack) -> None:
    await stack.activate(ALICE)
    before = len(_events_lists(stack))
    _limit_attempts(stack)
    asked = timedelta(seconds=120)  # far longer than the first backoff (RETRY_BASE)
    assert RETRY_BASE < asked < RETRY_CAP
    stack.emu.control({"errors": [{"status": 429, "rate": 1.0, "path": "/events$",
                                   "method": "GET",
                                   "retry_after": int(asked.total_seconds())}]})
    await stack.engine.request_sync(stack.user_ids[ALICE], "test")
    await stack.idle()
    for attempt in range(1, MAX_ATTEMPTS):
        assert len(_events_lists(stack)[before:]) == attempt
        await stack.advance(asked - timedelta(seconds=1))
        assert len(_events_lists(stack)[before:]) == attempt  # not before Retry-After
        await stack.advance(timedelta(seconds=1))
    await _advance_far_beyond_every_retry(stack)
    assert _events_lists(stack)[before:] == [429] * MAX_ATTEMPTS
    assert await stack.gateway.store.job_counts() == {"parked": 1}


async def test_a_persistently_failing_token_endpoint_is_retried_by_the_engine_only(
        stack: Stack) -> None:
    _limit_attempts(stack)
    stack.emu.control({"token_errors": [{"status": 503, "rate": 1.0}]})
    user: dict[str, Any] = await stack.activate(CAROL)
    await _advance_far_beyond_every_retry(stack)
    grants = [r for r in stack.emu.state.request_log if r.path == "/token"]
    assert [r.status for r in grants] == [503] * MAX_ATTEMPTS
    assert await stack.gateway.store.job_counts() == {"parked": 1}
    user = await stack.user(CAROL)
    assert user["state"] == "error"  # never left validating with no reason
    assert user["reason_code"] == "validation_unavailable"  # not the user's fault
    assert "503" in user["reason"]
    assert not [r for r in stack.emu.state.request_log if r.path.startswith("/calendar")]
