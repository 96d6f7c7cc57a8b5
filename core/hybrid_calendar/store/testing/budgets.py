"""Store suite, part 7: request budgets shared by every process of the database."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from hybrid_calendar.store.base import Store
from hybrid_calendar.store.budget import BudgetUse, SharedBudget
from hybrid_calendar.store.testing.support import (
    NOW,
    ReversibleCipher,
    StoreBackend,
    StoreFixtures,
    covers,
)

MINUTE = 60.0


class BudgetTests(StoreFixtures):
    """``take_budget``: never more than the limit in any window, wherever units are taken."""

    @pytest.mark.anyio
    @covers("take_budget")
    async def test_a_budget_refuses_what_does_not_fit_and_says_how_long_to_wait(
            self, store: Store) -> None:
        assert await store.take_budget("api", 3, 5, MINUTE, NOW) == 0
        assert await store.take_budget("api", 2, 5, MINUTE, NOW + timedelta(seconds=15)) == 0
        wait = await store.take_budget("api", 1, 5, MINUTE, NOW + timedelta(seconds=16))
        assert 0 < wait <= MINUTE + MINUTE / 6  # refused: nothing was taken
        assert await store.take_budget("other", 5, 5, MINUTE, NOW) == 0  # budgets are apart
        later = NOW + timedelta(seconds=16 + wait)
        assert await store.take_budget("api", 3, 5, MINUTE, later) == 0  # the 3 expired
        assert await store.take_budget("api", 1, 5, MINUTE, later) > 0  # the 2 still count
        assert await store.take_budget("api", 9, 5, MINUTE, later) > 0  # never fits

    @pytest.mark.anyio
    @covers("take_budget", "open")
    async def test_no_window_ever_holds_more_than_the_limit_across_stores(
            self, store: Store, store_backend: StoreBackend, cipher: ReversibleCipher,
            called: set[str]) -> None:
        other = await self.reopen(store_backend, cipher, called)
        taken: list[float] = []
        try:
            for step in range(400):  # every 0.7 s for 280 s, alternating stores
                at = NOW + timedelta(seconds=0.7 * step)
                if await (store, other)[step % 2].take_budget("p", 1, 20, MINUTE, at) == 0:
                    taken.append(at.timestamp())
        finally:
            await other.close()
        worst = max(sum(1 for t in taken if start <= t < start + MINUTE) for start in taken)
        assert worst <= 20
        assert len(taken) >= 20 * 4  # and the budget refills: about 20 a minute taken

    @pytest.mark.anyio
    @covers("take_budget")
    async def test_shared_budget_waits_until_units_fit(self, store: Store) -> None:
        clock = [NOW]
        waits: list[float] = []

        async def sleep(seconds: float) -> None:
            waits.append(seconds)
            clock[0] += timedelta(seconds=seconds)

        budget = SharedBudget(store, "sink", 2, now=lambda: clock[0], sleep=sleep)
        for _ in range(3):
            await budget.acquire()
        assert len(waits) == 1 and budget.waited_seconds == waits[0] > 0
        with pytest.raises(ValueError, match="never fit"):
            await budget.acquire(3)

    @pytest.mark.anyio
    @covers("take_budget")
    async def test_shared_budgets_taking_blocks_stay_inside_the_limit(
            self, store: Store) -> None:
        clock = [NOW]

        async def sleep(seconds: float) -> None:
            clock[0] += timedelta(seconds=seconds)

        budgets = [SharedBudget(store, "google", 100, now=lambda: clock[0], sleep=sleep)
                   for _ in range(2)]  # two processes, each taking blocks of 2
        assert budgets[0].block == 2
        used: list[float] = []
        for step in range(600):
            clock[0] += timedelta(seconds=0.25)
            await budgets[step % 2].acquire()
            used.append(clock[0].timestamp())
        worst = max(sum(1 for t in used if start <= t < start + MINUTE) for start in used)
        assert worst <= 100

    @pytest.mark.anyio
    @covers("take_budget", "read_budgets")
    async def test_callers_arriving_together_share_one_block(self, store: Store) -> None:
        budget = SharedBudget(store, "burst", 1000, now=lambda: NOW)
        assert budget.block == 20
        await asyncio.gather(*(budget.acquire() for _ in range(16)))
        assert (await store.read_budgets(["burst"], MINUTE, NOW))["burst"].used == 20
        await asyncio.gather(*(budget.acquire(3) for _ in range(3)))  # 4 left, then a block
        assert (await store.read_budgets(["burst"], MINUTE, NOW))["burst"].used == 40

    @pytest.mark.anyio
    @covers("read_budgets", "take_budget", "open")
    async def test_reading_a_budget_counts_what_a_take_counts_in_every_store(
            self, store: Store, store_backend: StoreBackend, cipher: ReversibleCipher,
            called: set[str]) -> None:
        assert await store.read_budgets([], MINUTE, NOW) == {}
        never = await store.read_budgets(["never"], MINUTE, NOW)
        assert never == {"never": BudgetUse(used=0, frees_in=0.0)}
        other = await self.reopen(store_backend, cipher, called)  # another process
        try:
            assert await store.take_budget("read", 3, 5, MINUTE, NOW) == 0
            assert await other.take_budget("read", 2, 5, MINUTE,
                                            NOW + timedelta(seconds=15)) == 0
            at = NOW + timedelta(seconds=16)
            seen = (await other.read_budgets(["read", "read", "never"], MINUTE, at))
            assert set(seen) == {"read", "never"} and seen["never"].used == 0
            assert seen["read"].used == 5 == (await store.read_budgets(["read"], MINUTE,
                                                                       at))["read"].used
            refused = await store.take_budget("read", 1, 5, MINUTE, at)
            assert refused > 0 and seen["read"].frees_in == pytest.approx(refused)
            assert (await store.read_budgets(["read"], MINUTE, at))["read"].used == 5
            later = at + timedelta(seconds=refused)  # the first 3 stopped counting
            assert (await other.read_budgets(["read"], MINUTE, later))["read"].used == 2
            gone = NOW + timedelta(seconds=15 + MINUTE + MINUTE / 6 + 1)
            assert (await store.read_budgets(["read"], MINUTE, gone))["read"] == \
                BudgetUse(used=0, frees_in=0.0)
        finally:
            await other.close()

    @pytest.mark.anyio
    @covers("read_budgets")
    async def test_reading_many_budgets_at_once(self, store: Store) -> None:
        names = [f"user:{n}" for n in range(1200)]  # more than one query's worth
        for name in names[::100]:
            assert await store.take_budget(name, 2, 600, MINUTE, NOW) == 0
        seen = await store.read_budgets(names, MINUTE, NOW)
        assert len(seen) == 1200
        assert sum(use.used for use in seen.values()) == 2 * 12
        assert all(seen[name].used == 2 and seen[name].frees_in > 0
                   for name in names[::100])
