"""Sliding-window budgets wait instead of failing."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest

from hybrid_calendar.builder import opened_gateway
from hybrid_calendar.gateway import Gateway
from hybrid_calendar.loading import load_config
from hybrid_calendar_google.quota import QuotaLimiter, SlidingWindow


@asynccontextmanager
async def stored_gateway(data_dir: Path) -> AsyncIterator[Gateway]:
    """A gateway with its store open on the SQLite file in ``data_dir`` (only the local
    KMS enabled): what a process that keeps its budgets in the store starts with."""
    config, pm = load_config(None, overrides={
        "gateway": {"data_dir": str(data_dir)},
        "plugins": {"enabled": ["kms_local"], "load_entrypoints": False}}, environ={})
    async with opened_gateway(config, pm) as gateway:
        yield gateway


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


@pytest.mark.anyio
async def test_a_patch_costs_three_units() -> None:
    """Issue 15 item 6: the budget counts Google's units, not calls."""
    clock = FakeTime()
    quota = QuotaLimiter(100, 6, monotonic=clock.monotonic, sleep=clock.sleep)
    await quota.acquire("u1", units=3)
    await quota.acquire("u1", units=3)
    assert clock.sleeps == []
    await quota.acquire("u1", units=1)  # 7 units would exceed 6: waits for the window
    assert clock.sleeps and sum(clock.sleeps) == pytest.approx(60.0)


def test_the_client_charges_what_the_emulator_charges() -> None:
    """One table of costs: exactly the units the emulator (and Google) count."""
    from hybrid_calendar_google.client import QUOTA_UNITS
    from hybrid_calendar_google_emulator.dispatch import QUOTA_COST
    assert QUOTA_UNITS == QUOTA_COST


@pytest.mark.anyio
async def test_the_budget_survives_a_restart(tmp_path: Any) -> None:
    """Two limiters over one database file: the second (after a restart) sees the first's
    units and waits instead of starting from an empty minute."""
    from datetime import UTC, datetime, timedelta

    from hybrid_calendar_google.quota import persistent_limiter

    now = [datetime(2026, 11, 30, 9, tzinfo=UTC)]
    slept: list[float] = []

    async def sleep(seconds: float) -> None:
        slept.append(seconds)
        now[0] += timedelta(seconds=seconds)

    async def run(units: int) -> None:
        async with stored_gateway(tmp_path) as gateway:
            quota = persistent_limiter(gateway.store, 100, 50, now=lambda: now[0],
                                       sleep=sleep)
            for _ in range(units):
                await quota.acquire("alice", units=3)

    await run(16)  # 48 of alice's 50 units
    assert slept == []
    await run(1)  # a restart: 3 more do not fit this minute
    assert slept, "the restarted gateway forgot the units spent before it"


@pytest.mark.anyio
async def test_a_restart_with_a_lower_limit_counts_the_units_spent_through_the_pool(
        tmp_path: Any) -> None:
    """A gateway at 120 units a user and minute spends each user's first units from the
    pool's share (a hundredth of the limit: 1 unit per sub-window). Restarted at 30, too
    little for a pool, it must still count those units: Google does. Found by the chaos
    harness's burst fault (the emulator refused one call)."""
    from datetime import UTC, datetime, timedelta

    from hybrid_calendar_google.quota import persistent_limiter, quota_report

    now = [datetime(2026, 11, 30, 9, 0, 1, tzinfo=UTC)]
    slept: list[float] = []

    async def sleep(seconds: float) -> None:
        slept.append(seconds)
        now[0] += timedelta(seconds=seconds)

    async with stored_gateway(tmp_path) as gateway:
        before = persistent_limiter(gateway.store, 10_000, 120, now=lambda: now[0],
                                    sleep=sleep)
        assert before.user_pool is not None and before.user_pool.share == 1
        await before.acquire("alice")  # spent from the pool's share
        after = persistent_limiter(gateway.store, 10_000, 30, now=lambda: now[0],
                                   sleep=sleep)
        assert after.user_pool is not None and after.user_pool.share == 0  # too little
        _project, busiest = await quota_report(after, ["alice"])
        assert busiest.used == 1  # reported as the takes count it: the pool's unit
        for _ in range(29):
            await after.acquire("alice")
        assert slept == []
        await after.acquire("alice")  # the 31st unit of the minute waits
        assert slept, "the restarted gateway did not count the unit spent from the pool"


@pytest.mark.anyio
async def test_quota_report_of_a_process_alone_reads_its_windows() -> None:
    from hybrid_calendar_google.quota import (
        PROJECT_BUDGET_NAME,
        USER_BUDGET_NAME,
        quota_report,
    )
    clock = FakeTime()
    quota = QuotaLimiter(100, 10, monotonic=clock.monotonic, sleep=clock.sleep)
    await quota.acquire("a@example.com", units=3)
    await quota.acquire("b@example.com")
    await quota.acquire("c@example.com", units=4)  # another organisation's user
    project, busiest = await quota_report(quota, ["a@example.com", "b@example.com"])
    assert (project.name, project.used, project.limit) == (PROJECT_BUDGET_NAME, 8, 100)
    assert (busiest.name, busiest.used, busiest.limit) == (USER_BUDGET_NAME, 3, 10)
    clock.now += 60.0
    project, busiest = await quota_report(quota, ["a@example.com"])
    assert (project.used, busiest.used) == (0, 0)


@pytest.mark.anyio
async def test_one_store_take_covers_every_users_first_units(tmp_path: Any) -> None:
    """The per-user budgets share a pool: per sub-window, one store take holds a share of
    every user's budget, and users' calls inside their share ask the store nothing."""
    from datetime import UTC, datetime, timedelta

    from hybrid_calendar_google.quota import persistent_limiter, quota_report, user_budget_name

    now = [datetime(2026, 11, 30, 9, 0, 1, tzinfo=UTC)]
    async with stored_gateway(tmp_path) as gateway:
        quota = persistent_limiter(gateway.store, 100_000, 600, now=lambda: now[0])
        assert quota.user_pool is not None and quota.user_pool.share == 6
        users = [f"user{n}@example.com" for n in range(1000)]
        for user in users:
            await quota.acquire(user)  # a list
            await quota.acquire(user, units=3)  # a patch: 4 of the share's 6
        assert quota.user_pool.takes == 1
        own = await gateway.store.read_budgets([user_budget_name(u) for u in users], 60.0,
                                               now[0])
        assert {use.used for use in own.values()} == {0}  # no user's own budget was taken
        _project, busiest = await quota_report(quota, users)
        assert busiest.used == 6  # the pool's share counts in every user's budget
        await quota.acquire(users[0], units=3)  # beyond the share: the user's own budget
        _project, busiest = await quota_report(quota, users[:1])
        assert busiest.used == 6 + 12  # its own block (a fiftieth of 600) now counts too
        now[0] += timedelta(seconds=10)  # the next sub-window: the share is taken again
        await quota.acquire(users[1])
        assert quota.user_pool.takes == 2
