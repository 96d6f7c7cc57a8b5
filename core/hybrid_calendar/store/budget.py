"""Request budgets shared by every process of a database: "at most N units per minute".

The primitive is :meth:`Store.take_budget <hybrid_calendar.store.base.Store.take_budget>`:
take ``units`` from a named budget, or learn how long to wait. Backends keep, per budget,
the units used in sub-windows of a sixth of the window (:data:`SLOTS`); a take succeeds
when the units of the last ``SLOTS + 1`` sub-windows plus the new ones fit the limit.
Those sub-windows always cover the whole sliding window ending now, so the units taken
in ANY window of the configured length never exceed the limit, whichever processes took
them (the price: a budget may refill up to one sub-window late).

:class:`SharedBudget` is what a plugin uses: ``await budget.acquire(units)`` waits until
the units fit, e.g. the Google provider's per-project quota or a Webex sink's.
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

SLOTS = 6
"""Sub-windows per window."""


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


class SharedBudget:
    """A named budget of ``limit`` units per ``window_seconds``, shared through the store.

    :param store: the (open) store every process shares.
    :param name: the budget's name, e.g. ``"google:project"``.
    :param limit: most units in any window.
    :param window_seconds: the window (60 for "per minute").
    :param now: time source of the takes (the gateway's clock).
    :param sleep: how to wait (injectable for tests).
    """

    def __init__(self, store: Store, name: str, limit: int, *, window_seconds: float = 60.0,
                 now: Callable[[], datetime],
                 sleep: Callable[[float], Awaitable[None]] = asyncio.sleep) -> None:
        if limit < 1:
            raise ValueError("limit must be at least 1")
        self.store = store
        self.name = name
        self.limit = limit
        self.window_seconds = window_seconds
        self._now = now
        self._sleep = sleep
        self.waited_seconds = 0.0
        """Total time callers waited for this budget (for metrics and tests)."""

    async def acquire(self, units: int = 1) -> None:
        """Wait until ``units`` fit the budget, then take them.

        :raises ValueError: ``units`` exceeds the whole budget (it could never fit).
        """
        if units > self.limit:
            raise ValueError(f"{units} units never fit budget {self.name!r} of {self.limit}")
        while True:
            wait = await self.store.take_budget(self.name, units, self.limit,
                                                self.window_seconds, self._now())
            if wait <= 0:
                return
            self.waited_seconds += wait
            await self._sleep(wait)
