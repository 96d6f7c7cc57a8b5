"""A share of many budgets held at once: one store take covers every member's next units.

A family of budgets with the same limit and window, e.g. the Google per-user budgets
``google:user:<digest>``, has a pool named after the family (``google:user``). A
process takes from the pool with :meth:`Store.take_budget_pool
<hybrid_calendar.store.base.Store.take_budget_pool>`: ``share`` units reserved for EVERY
member at once, in one store row, counted by every take of every member (a member's take
passes ``pool=``) as if each member had taken them itself. The pool take succeeds only
when the busiest member, plus what all processes hold in the pool, plus the new share,
fits the limit, so for each member the units counted in any window still never exceed
the limit, whichever processes took them and however they took them.

:class:`BudgetPool` is the process's side: once per sub-window (the first member needing
units takes it) it reserves the share, then lets each member spend up to ``share`` units
of it in that sub-window without asking the store; what is left lapses with the
sub-window, as a :class:`~hybrid_calendar.store.budget.SharedBudget`'s block does. A
member needing more takes from its own budget, as before. A refused pool take is not
repeated in the same sub-window (members then take their own units).

The price: every process using the pool holds ``share`` units of every member's budget
per sub-window, and a sub-window's units count for ``SLOTS + 1`` sub-windows, so each
such process keeps ``(SLOTS + 1) × share`` units of every member's limit reserved
(7 % of it with :data:`POOL_FRACTION`), spent or not.
"""

from __future__ import annotations

import asyncio
import enum
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING

from hybrid_calendar.store.budget import BudgetSlots

if TYPE_CHECKING:
    from hybrid_calendar.store.base import Store

POOL_FRACTION = 100
"""A pool's share per member and sub-window: a hundredth of the members' limit (none
when that is less than one unit)."""


class _Share(enum.Enum):
    """This process's share of a pool for one sub-window."""

    MISSING = "missing"
    """Not asked for yet."""
    HELD = "held"
    REFUSED = "refused"
    """The store had no room: members take their own units until the sub-window ends."""


def is_member(name: str, pool: str) -> bool:
    """Whether budget ``name`` belongs to ``pool`` (its name is ``<pool>:<member>``)."""
    return name.startswith(pool + ":") and len(name) > len(pool) + 1


def earliest_slot(*slots: int | None) -> int | None:
    """The earliest of the sub-windows given (None when none is)."""
    found = [slot for slot in slots if slot is not None]
    return min(found) if found else None


def counted_with_pool(found: dict[str, tuple[int, int | None]], name: str, pool: str | None
                      ) -> tuple[int, int | None]:
    """What a take of ``name`` counts, from ``found`` (per budget name read: units and
    first sub-window holding some): its own units, plus its pool's when a member."""
    used, first = found.get(name, (0, None))
    if pool is None or not is_member(name, pool):
        return used, first
    held, held_first = found.get(pool, (0, None))
    return used + held, earliest_slot(first, held_first)


class BudgetPool:
    """This process's share of a pool of budgets (see module docs).

    :param store: the (open) store every process shares.
    :param name: the pool's name; its members are named ``<name>:<member>``.
    :param limit: every member's limit (units in any window).
    :param window_seconds: every member's window.
    :param now: time source (the gateway's clock).
    """

    def __init__(self, store: Store, name: str, limit: int, *, window_seconds: float = 60.0,
                 now: Callable[[], datetime]) -> None:
        self.store = store
        self.name = name
        self.limit = limit
        self.window_seconds = window_seconds
        self._now = now
        self.share = limit // POOL_FRACTION
        """Units each member may spend per sub-window from one pool take (0: no pool)."""
        self.takes = 0
        """Pool takes asked of the store so far (for tests and metrics)."""
        self._slot: int | None = None
        self._state = _Share.MISSING  # this process's share for sub-window ``_slot``
        self._spent: dict[str, int] = {}
        self._lock = asyncio.Lock()

    def spend(self, member: str, units: int, now: datetime) -> bool | None:
        """Spend ``units`` of ``member`` from the share held for the sub-window of ``now``.

        :returns: True when spent; False when the share cannot cover them (take them from
            the member's own budget); None when the share for this sub-window has not been
            asked for yet (call :meth:`take_share`, then again).
        """
        if units > self.share or not is_member(member, self.name):
            return False
        slot = BudgetSlots.at(now, self.window_seconds).current
        if slot != self._slot:
            self._slot, self._state, self._spent = slot, _Share.MISSING, {}  # the rest lapses
        if self._state is _Share.REFUSED:
            return False
        spent = self._spent.get(member, 0) + units
        if spent > self.share:
            return False
        if self._state is _Share.MISSING:
            return None
        self._spent[member] = spent
        return True

    async def take_share(self, now: datetime) -> None:
        """Ask the store for this process's share for the sub-window of ``now`` (once per
        sub-window, however many members ask at once)."""
        slot = BudgetSlots.at(now, self.window_seconds).current
        async with self._lock:
            if self._slot != slot or self._state is not _Share.MISSING:
                return  # another member took (or was refused) meanwhile, or it lapsed
            self.takes += 1
            wait = await self.store.take_budget_pool(self.name, self.share, self.limit,
                                                     self.window_seconds, now)
            if self._slot == slot:
                self._state = _Share.HELD if wait <= 0 else _Share.REFUSED
