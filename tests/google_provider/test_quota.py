"""Sliding-window budgets wait instead of failing."""

from __future__ import annotations

import pytest

from hybrid_calendar_google.quota import QuotaLimiter, SlidingWindow


class FakeTime:
    """Monotonic clock that ``sleep`` advances."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def monotonic(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def test_window_counts_only_the_last_minute() -> None:
    window = SlidingWindow(2, 60.0)
    window.record(0.0)
    window.record(10.0)
    assert window.wait_time(30.0) == pytest.approx(30.0)
    assert window.wait_time(60.0) == 0.0  # the first event left the window


@pytest.mark.anyio
async def test_user_budget_waits_until_oldest_call_leaves_window() -> None:
    clock = FakeTime()
    quota = QuotaLimiter(100, 3, monotonic=clock.monotonic, sleep=clock.sleep)
    for _ in range(3):
        await quota.acquire("u1")
    assert clock.sleeps == []
    await quota.acquire("u1")
    assert clock.sleeps == [pytest.approx(60.0)]
    await quota.acquire("u2")  # another user is not held back by u1's budget
    assert len(clock.sleeps) == 1


@pytest.mark.anyio
async def test_project_budget_applies_across_users() -> None:
    clock = FakeTime()
    quota = QuotaLimiter(4, 600, monotonic=clock.monotonic, sleep=clock.sleep)
    for user in "abcd":
        await quota.acquire(user)
        clock.now += 1.0
    await quota.acquire("e")
    assert clock.sleeps == [pytest.approx(56.0)]
    assert quota.waited_seconds == pytest.approx(56.0)


@pytest.mark.anyio
async def test_idle_user_windows_are_forgotten() -> None:
    clock = FakeTime()
    quota = QuotaLimiter(1000, 10, monotonic=clock.monotonic, sleep=clock.sleep)
    for index in range(50):
        await quota.acquire(f"user{index}")
    assert quota.tracked_users() == 50
    clock.now += 61.0
    await quota.acquire("late")
    assert quota.tracked_users() == 1


def test_limit_must_be_positive() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        SlidingWindow(0)
