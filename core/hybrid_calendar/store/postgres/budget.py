"""Shared request budgets on PostgreSQL (:mod:`hybrid_calendar.store.budget`, pools:
:mod:`hybrid_calendar.store.budget_pool`).

Takers of one budget are serialized by a transaction-scoped advisory lock on the
budget's name, so concurrent processes never both see room for the last units. A
member of a pool also holds its pool's lock shared, and a pool take holds it
exclusively, so a pool take sees every member as no member take can change it.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from hybrid_calendar.store.budget import BudgetSlots, BudgetUse
from hybrid_calendar.store.budget_pool import counted_with_pool, is_member
from hybrid_calendar.store.postgres.connection import PostgresConnection

_TAKE = "SELECT first, taken FROM hybrid_calendar_take_budget(%s, %s, %s, %s, %s)"
"""One statement in autocommit (migration ``m012``): under the budget's advisory lock,
drop the expired slots, sum the window, add the units if they fit; the lock is released
by the statement's own commit."""
_TAKE_POOLED = ("SELECT first, taken FROM hybrid_calendar_take_pooled_budget("
                "%s, %s, %s, %s, %s, %s)")
"""As :data:`_TAKE` for a member of a pool (migration ``m014``): its pool's units count."""
_TAKE_POOL = "SELECT first, taken FROM hybrid_calendar_take_budget_pool(%s, %s, %s, %s, %s)"
"""A pool take (migration ``m014``): under the pool's lock, the busiest member decides."""


class PostgresBudgets(PostgresConnection):
    """``take_budget`` and ``take_budget_pool`` in one statement each (a function taking
    the locks, then the units); ``read_budgets`` in one query."""

    async def take_budget(self, name: str, units: int, limit: int, window_seconds: float,
                          now: datetime, *, pool: str | None = None) -> float:
        if pool is not None and not is_member(name, pool):
            raise ValueError(f"budget {name!r} is not a member of pool {pool!r}")
        slots = BudgetSlots.at(now, window_seconds)
        if pool is None:
            return await self._take(slots, now, _TAKE, (name, slots.oldest, slots.current,
                                                        units, limit))
        return await self._take(slots, now, _TAKE_POOLED, (name, pool, slots.oldest,
                                                           slots.current, units, limit))

    async def take_budget_pool(self, pool: str, units: int, limit: int,
                               window_seconds: float, now: datetime) -> float:
        slots = BudgetSlots.at(now, window_seconds)
        return await self._take(slots, now, _TAKE_POOL, (pool, slots.oldest, slots.current,
                                                         units, limit))

    async def _take(self, slots: BudgetSlots, now: datetime, statement: str,
                    params: tuple[object, ...]) -> float:
        # Its own transaction, never a group's (:mod:`.group_commit`): the lock is held
        # until the commit, and a group would hold it for every write of the group while
        # the takers of every process wait (measured: several times the lock waits).
        async with self.connection() as conn:  # autocommit: the statement is the transaction
            cursor = await conn.execute(statement, params)
            row = await cursor.fetchone()
        assert row is not None
        if not row["taken"]:
            return slots.wait_until_free(now, row["first"])
        return 0.0

    async def read_budgets(self, names: Sequence[str], window_seconds: float, now: datetime,
                           *, pool: str | None = None) -> dict[str, BudgetUse]:
        slots = BudgetSlots.at(now, window_seconds)
        wanted = list(dict.fromkeys(names))
        asked = wanted if pool is None else [*wanted, pool]
        rows = await self.fetch(
            "SELECT name, SUM(used) AS used, MIN(slot) AS first FROM budget_usage "
            "WHERE name = ANY(%s) AND slot >= %s AND used > 0 GROUP BY name",
            (asked, slots.oldest)) if wanted else []
        found: dict[str, tuple[int, int | None]] = {
            str(r["name"]): (int(r["used"]), int(r["first"])) for r in rows}
        return {name: BudgetUse.of(slots, now, *counted_with_pool(found, name, pool))
                for name in wanted}
