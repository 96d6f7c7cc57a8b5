"""An organisation's Webex rate budget is shared by every gateway process on one
PostgreSQL database."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from hybrid_calendar.store.budget import SharedBudget
from hybrid_calendar.store.postgres.store import PostgresStore
from hybrid_calendar.store.testing import NOW
from hybrid_calendar_webex.budget import RateBudget

pytestmark = pytest.mark.anyio


async def test_two_processes_stay_inside_one_organisations_budget(
        two_processes: list[PostgresStore]) -> None:
    clock = [NOW]
    waits: list[float] = []

    async def sleep(seconds: float) -> None:
        waits.append(seconds)
        clock[0] += timedelta(seconds=seconds)

    def now() -> datetime:
        return clock[0]

    def budgets(store: PostgresStore) -> RateBudget:
        return RateBudget(8, monotonic=lambda: clock[0].timestamp(), sleep=sleep,
                          shared=lambda org: SharedBudget(store, f"webex:{org}", 8, now=now,
                                                          sleep=sleep))

    processes = [budgets(store) for store in two_processes]
    for call in range(8):  # each process alone is far from its own 8
        await processes[call % 2].acquire("org1")
    await processes[0].acquire("org2")  # another organisation has its own budget
    assert waits == []
    await processes[1].acquire("org1")  # the organisation's 9th call of the minute waits
    assert len(waits) == 1 and clock[0] - NOW >= timedelta(seconds=50)
