"""The per-project budget is shared by every gateway process on one PostgreSQL database."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from hybrid_calendar.store.budget import SharedBudget
from hybrid_calendar.store.postgres.store import PostgresStore
from hybrid_calendar.store.testing import NOW
from hybrid_calendar_google.quota import QuotaLimiter, persistent_limiter, quota_report

pytestmark = pytest.mark.anyio


async def test_two_processes_stay_inside_one_project_budget(
        two_processes: list[PostgresStore]) -> None:
    clock = [NOW]
    waits: list[float] = []

    async def sleep(seconds: float) -> None:
        waits.append(seconds)
        clock[0] += timedelta(seconds=seconds)

    def now() -> datetime:
        return clock[0]

    limiters = [QuotaLimiter(10, 600, monotonic=lambda: clock[0].timestamp(), sleep=sleep,
                             shared_project=SharedBudget(store, "google:project", 10,
                                                         now=now, sleep=sleep))
                for store in two_processes]
    for call in range(10):  # each process alone is far from its own 10
        await limiters[call % 2].acquire(f"user{call}@example.com")
    assert waits == []
    await limiters[0].acquire("user99@example.com")  # the 11th call of the project waits
    assert len(waits) == 1 and clock[0] - NOW >= timedelta(seconds=50)
    assert limiters[0].shared_project is not None
    assert limiters[0].shared_project.waited_seconds == waits[0]


async def test_every_process_reports_the_units_all_processes_took(
        two_processes: list[PostgresStore]) -> None:
    clock = [NOW]

    async def sleep(seconds: float) -> None:
        clock[0] += timedelta(seconds=seconds)

    limiters = [persistent_limiter(store, 10, 5, now=lambda: clock[0], sleep=sleep)
                for store in two_processes]
    await limiters[0].acquire("a@example.com", units=3)
    await limiters[1].acquire("a@example.com", units=1)
    await limiters[1].acquire("b@example.com", units=2)
    for limiter in limiters:  # blocks are 1 unit here, so the figures are exact
        project, busiest = await quota_report(limiter, ["a@example.com", "b@example.com"])
        assert (project.used, project.limit) == (6, 10)
        assert (busiest.used, busiest.limit) == (4, 5)
