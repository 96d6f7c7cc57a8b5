"""Store suite, part 7b: pools of budgets (one take holding units for every member)."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta

import pytest

from hybrid_calendar.store.base import Store
from hybrid_calendar.store.budget import SharedBudget
from hybrid_calendar.store.budget_pool import BudgetPool
from hybrid_calendar.store.testing.support import (
    NOW,
    ReversibleCipher,
    StoreBackend,
    StoreFixtures,
    covers,
)

MINUTE = 60.0


def worst_window(times: list[float]) -> int:
    """Most units (one per entry) spent in any window of a minute."""
    return max((sum(1 for t in times if start <= t < start + MINUTE) for start in times),
               default=0)


class Process:
    """One gateway process's pooled member budgets, on its own store and a shared clock."""

    def __init__(self, store: Store, clock: list[datetime], limit: int) -> None:
        self.clock = clock
        self.pool = BudgetPool(store, "g", limit, now=self.now)
        self.budgets = {name: SharedBudget(store, f"g:{name}", limit, now=self.now,
                                           sleep=self.sleep, pool=self.pool)
                        for name in ("a", "b", "c")}

    def now(self) -> datetime:
        return self.clock[0]

    async def sleep(self, seconds: float) -> None:
        self.clock[0] += timedelta(seconds=seconds)


class BudgetPoolTests(StoreFixtures):
    """``take_budget_pool``: units held for every member count in each member's limit."""

    @pytest.mark.anyio
    @covers("take_budget_pool", "take_budget", "read_budgets")
    async def test_a_pool_take_holds_units_for_every_member(self, store: Store) -> None:
        assert await store.take_budget("g:a", 3, 10, MINUTE, NOW, pool="g") == 0
        assert await store.take_budget_pool("g", 4, 10, MINUTE, NOW) == 0  # 3 + 4 fit
        assert await store.take_budget_pool("g", 4, 10, MINUTE, NOW) > 0  # 3 + 4 + 4 not
        assert await store.take_budget("g:a", 4, 10, MINUTE, NOW, pool="g") > 0
        assert await store.take_budget("g:a", 3, 10, MINUTE, NOW, pool="g") == 0
        assert await store.take_budget("g:new", 6, 10, MINUTE, NOW, pool="g") == 0
        assert await store.take_budget("g:new", 1, 10, MINUTE, NOW, pool="g") > 0
        assert await store.take_budget("gx:a", 10, 10, MINUTE, NOW, pool="gx") == 0
        seen = await store.read_budgets(["g:a", "g:new", "g:quiet", "gx:a", "g"], MINUTE,
                                        NOW, pool="g")
        assert {name: use.used for name, use in seen.items()} == {
            "g:a": 10, "g:new": 10, "g:quiet": 4, "gx:a": 10, "g": 4}
        assert seen["g:quiet"].frees_in > 0
        assert (await store.read_budgets(["g:quiet"], MINUTE, NOW))["g:quiet"].used == 0
        with pytest.raises(ValueError, match="not a member"):
            await store.take_budget("gx:a", 1, 10, MINUTE, NOW, pool="g")
        later = NOW + timedelta(seconds=MINUTE + MINUTE / 6 + 1)  # all of it stopped counting
        assert await store.take_budget_pool("g", 10, 10, MINUTE, later) == 0
        assert await store.take_budget("g:a", 1, 10, MINUTE, later, pool="g") > 0

    @pytest.mark.anyio
    @covers("take_budget_pool", "take_budget", "open")
    async def test_pooled_members_stay_inside_their_limit_across_processes(
            self, store: Store, store_backend: StoreBackend, cipher: ReversibleCipher,
            called: set[str]) -> None:
        other = await self.reopen(store_backend, cipher, called)
        clock = [NOW]
        processes = [Process(store, clock, 200), Process(other, clock, 200)]
        assert processes[0].pool.share == 2 and processes[0].budgets["a"].block == 4
        spent: dict[str, list[float]] = defaultdict(list)
        try:
            for step in range(2400):  # 300 s: member a busy in both, b in one, c rarely
                clock[0] += timedelta(seconds=0.125)
                process = processes[step % 2]
                name = "a" if step % 3 else ("b" if step % 4 else "c")
                if (name == "b" and step % 2) or (name == "c" and step % 40):
                    continue
                units = 1 + step % 3
                await process.budgets[name].acquire(units)
                spent[name] += [clock[0].timestamp()] * units
        finally:
            await other.close()
        assert all(worst_window(times) <= 200 for times in spent.values())
        assert worst_window(spent["a"]) >= 150  # the busy member still gets most of its limit
        assert sum(p.pool.takes for p in processes) >= 2 * 300 / 10 - 2  # every sub-window

    @pytest.mark.anyio
    @covers("take_budget_pool", "take_budget", "open")
    async def test_a_restarted_process_counts_what_it_spent_from_the_pool(
            self, store: Store, store_backend: StoreBackend, cipher: ReversibleCipher,
            called: set[str]) -> None:
        clock = [NOW]
        spent: list[float] = []
        before = Process(store, clock, 100)  # a share of 1 unit per member and sub-window
        for _ in range(40):  # 4 s apart: the pool covers each, nothing else is taken
            clock[0] += timedelta(seconds=4)
            await before.budgets["a"].acquire()
            spent.append(clock[0].timestamp())
        assert before.pool.takes >= 10
        await store.close()  # the process ends; another starts on the same database
        restarted = await self.reopen(store_backend, cipher, called)
        try:
            after = Process(restarted, clock, 100)
            for _ in range(150):  # as fast as the budget lets it
                await after.budgets["a"].acquire()
                spent.append(clock[0].timestamp())
        finally:
            await restarted.close()
        assert worst_window(spent) <= 100

    @pytest.mark.anyio
    @covers("take_budget_pool", "take_budget", "read_budgets")
    async def test_a_refused_pool_leaves_members_to_their_own_budgets(
            self, store: Store) -> None:
        assert await store.take_budget("g:a", 100, 100, MINUTE, NOW, pool="g") == 0
        process = Process(store, [NOW], 100)  # a share of 1, blocks of 2
        await process.budgets["b"].acquire()  # the pool does not fit next to a's 100
        await process.budgets["b"].acquire()  # the rest of b's own block
        await process.budgets["c"].acquire()  # not asked again in this sub-window
        assert process.pool.takes == 1
        own = await store.read_budgets(["g:a", "g:b", "g:c"], MINUTE, NOW)
        assert {name: use.used for name, use in own.items()} == {"g:a": 100, "g:b": 2,
                                                                 "g:c": 2}
