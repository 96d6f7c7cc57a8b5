"""Shared request budgets on PostgreSQL (:mod:`hybrid_calendar.store.budget`).

Takers of one budget are serialized by a transaction-scoped advisory lock on the
budget's name, so concurrent processes never both see room for the last units.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from hybrid_calendar.store.budget import BudgetSlots, BudgetUse
from hybrid_calendar.store.postgres.connection import PostgresConnection

_TAKE = "SELECT first, taken FROM hybrid_calendar_take_budget(%s, %s, %s, %s, %s)"
"""One statement in autocommit (migration ``m012``): under the budget's advisory lock,
drop the expired slots, sum the window, add the units if they fit; the lock is released
by the statement's own commit."""


class PostgresBudgets(PostgresConnection):
    """``take_budget`` in one statement (a function taking the lock, then the units);
    ``read_budgets`` in one query."""

    async def take_budget(self, name: str, units: int, limit: int, window_seconds: float,
                          now: datetime) -> float:
        slots = BudgetSlots.at(now, window_seconds)
        # Its own transaction, never a group's (:mod:`.group_commit`): the lock is held
        # until the commit, and a group would hold it for every write of the group while
        # the takers of every process wait (measured: several times the lock waits).
        async with self.connection() as conn:  # autocommit: the statement is the transaction
            cursor = await conn.execute(_TAKE, (name, slots.oldest, slots.current, units,
                                                limit))
            row = await cursor.fetchone()
        assert row is not None
        if not row["taken"]:
            return slots.wait_until_free(now, row["first"])
        return 0.0

    async def read_budgets(self, names: Sequence[str], window_seconds: float, now: datetime
                           ) -> dict[str, BudgetUse]:
        slots = BudgetSlots.at(now, window_seconds)
        wanted = list(dict.fromkeys(names))
        rows = await self.fetch(
            "SELECT name, SUM(used) AS used, MIN(slot) AS first FROM budget_usage "
            "WHERE name = ANY(%s) AND slot >= %s AND used > 0 GROUP BY name",
            (wanted, slots.oldest)) if wanted else []
        found = {str(r["name"]): (int(r["used"]), int(r["first"])) for r in rows}
        return {name: BudgetUse.of(slots, now, *found.get(name, (0, None)))
                for name in wanted}
