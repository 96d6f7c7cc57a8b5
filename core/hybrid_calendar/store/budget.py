"""Request budgets shared by every process of a database: "at most N units per minute".

The primitive is :meth:`Store.take_budget <hybrid_calendar.store.base.Store.take_budget>`:
take ``units`` from a named budget, or learn how long to wait. Backends keep, per budget,
the units used in sub-windows of a sixth of the window (:data:`SLOTS`); a take succeeds
when the units of the last ``SLOTS + 1`` sub-windows plus the new ones fit the limit.
Those sub-windows always cover the whole sliding window ending now, so the units taken
in ANY window of the configured length never exceed the limit, whichever processes took
them (the price: a budget may refill up to one sub-window late).

:class:`SharedBudget` is what a plugin uses: ``await budget.acquire(units)`` waits until
the units fit, e.g. the Google provider's per-project quota or a Webex sink's. It takes
units from the database in blocks (a fiftieth of the limit) and spends them locally
until the sub-window they were taken in ends, so a busy process asks the database about
once per block, not once per call; a block's unspent units lapse with their sub-window.
A family of budgets, e.g. one per user, can share a pool
(:mod:`hybrid_calendar.store.budget_pool`): one store take per sub-window and process
then covers every member's first units.

:meth:`Store.read_budgets <hybrid_calendar.store.base.Store.read_budgets>` reads what a
take would count, without taking (:class:`BudgetUse`): the admin API and ``/metrics``
show it, and the admin sign-in limit asks it before checking a credential.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from hybrid_calendar.store.base import Store
    from hybrid_calendar.store.budget_pool import BudgetPool

SLOTS = 6
"""Sub-windows per window."""
BLOCK_FRACTION = 50
"""A process takes a fiftieth of a budget's limit from the database at a time."""


@dataclass(frozen=True, slots=True)
class BudgetSlots:
    """The sub-window arithmetic of one take (shared by the backends)."""

    current: int
    """Index of the sub-window holding ``now``."""
    oldest: int
    """Oldest sub-window that still counts."""
    width: float
    """Seconds per sub-window."""

    @classmethod
    def at(cls, now: datetime, window_seconds: float) -> BudgetSlots:
        """The sub-windows that count for a take at ``now``."""
        width = window_seconds / SLOTS
        current = math.floor(now.timestamp() / width)
        return cls(current=current, oldest=current - SLOTS, width=width)

    def wait_until_free(self, now: datetime, first_used: int | None) -> float:
        """Seconds until sub-window ``first_used`` stops counting (a whole window when
        nothing is used: the take is larger than the budget)."""
        if first_used is None:
            return self.width * SLOTS
        return max((first_used + SLOTS + 1) * self.width - now.timestamp(), 0.001)


@dataclass(frozen=True, slots=True)
class BudgetUse:
    """What a budget holds at one moment, as a take at that moment would count it."""

    used: int
    """Units taken in the sub-windows that count now (blocks a process took and has not
    spent yet included)."""
    frees_in: float
    """Seconds until the oldest of those sub-windows stops counting (0 when none holds
    units)."""

    @classmethod
    def of(cls, slots: BudgetSlots, now: datetime, used: int, first_used: int | None
           ) -> BudgetUse:
        """The use read at ``now`` (``first_used``: the oldest counting sub-window that
        holds units)."""
        if first_used is None or used <= 0:
            return cls(used=max(used, 0), frees_in=0.0)
        return cls(used=used, frees_in=slots.wait_until_free(now, first_used))


class SharedBudget:
    """A named budget of ``limit`` units per ``window_seconds``, shared through the store.

    :param store: the (open) store every process shares.
    :param name: the budget's name, e.g. ``"google:project"``.
    :param limit: most units in any window.
    :param window_seconds: the window (60 for "per minute").
    :param now: time source of the takes (the gateway's clock).
    :param sleep: how to wait (injectable for tests).
    :param pool: the pool the budget belongs to (:mod:`hybrid_calendar.store.budget_pool`;
        ``name`` is then ``<pool name>:<member>``): units it covers are spent without
        asking the store, and the pool's units count in every take.
    """

    def __init__(self, store: Store, name: str, limit: int, *, window_seconds: float = 60.0,
                 now: Callable[[], datetime],
                 sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
                 pool: BudgetPool | None = None) -> None:
        if limit < 1:
            raise ValueError("limit must be at least 1")
        if pool is not None and (pool.limit, pool.window_seconds) != (limit, window_seconds):
            raise ValueError(f"budget {name!r} and its pool {pool.name!r} differ in limit "
                             "or window")
        self.pool = pool
        self._pool_name = None if pool is None else pool.name
        self.store = store
        self.name = name
        self.limit = limit
        self.window_seconds = window_seconds
        self._now = now
        self._sleep = sleep
        self.waited_seconds = 0.0
        """Total time callers waited for this budget (for metrics and tests)."""
        self.block = max(1, limit // BLOCK_FRACTION)
        self._reserved = 0
        self._reserved_slot: int | None = None
        self._taking = asyncio.Lock()

    def now(self) -> datetime:
        """The time the budget's takes are counted in (its clock)."""
        return self._now()

    async def read(self) -> BudgetUse:
        """What the budget holds now, counted by every process sharing the store."""
        return (await self.store.read_budgets([self.name], self.window_seconds,
                                              self._now(), pool=self._pool_name))[self.name]

    async def acquire(self, units: int = 1) -> None:
        """Wait until ``units`` fit the budget, then take them.

        :raises ValueError: ``units`` exceeds the whole budget (it could never fit).
        """
        if units > self.limit:
            raise ValueError(f"{units} units never fit budget {self.name!r} of {self.limit}")
        while True:
            now = self._now()
            if self._spend_reserved(units, now):
                return
            if self.pool is not None:
                pooled = self.pool.spend(self.name, units, now)
                if pooled:
                    return
                if pooled is None:  # its share for this sub-window is still to be taken
                    await self.pool.take_share(now)
                    continue
            async with self._taking:  # one take at a time: callers meanwhile share its block
                now = self._now()
                if self._spend_reserved(units, now):
                    return
                wait = await self._take(units, now)
            if wait <= 0:
                return
            self.waited_seconds += wait
            await self._sleep(wait)

    def _spend_reserved(self, units: int, now: datetime) -> bool:
        """Spend ``units`` from the block held for the sub-window of ``now``, if it has
        them (a block's unspent units lapse with its sub-window)."""
        slot = BudgetSlots.at(now, self.window_seconds).current
        if self._reserved_slot != slot:
            self._reserved, self._reserved_slot = 0, slot
        if self._reserved >= units:
            self._reserved -= units
            return True
        return False

    async def _take(self, units: int, now: datetime) -> float:
        """Take a block (at least ``units``) from the store, spend ``units`` of it and
        keep the rest for the sub-window of ``now``; failing that, ``units`` alone.

        :returns: 0 when taken, else the seconds to wait.
        """
        slot = BudgetSlots.at(now, self.window_seconds).current
        want = max(units, self.block)
        wait = await self.store.take_budget(self.name, want, self.limit,
                                            self.window_seconds, now, pool=self._pool_name)
        if wait <= 0:
            if self._reserved_slot == slot:  # else its sub-window ended meanwhile
                self._reserved += want - units
            return 0.0
        if want > units:  # no room for a block: try the bare need
            wait = await self.store.take_budget(self.name, units, self.limit,
                                                self.window_seconds, now,
                                                pool=self._pool_name)
        return max(wait, 0.0)
