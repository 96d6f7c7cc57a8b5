"""Shared request budgets on PostgreSQL (:mod:`hybrid_calendar.store.budget`).

Takers of one budget are serialized by a transaction-scoped advisory lock on the
budget's name, so concurrent processes never both see room for the last units.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from hybrid_calendar.store.budget import BudgetSlots, BudgetUse
from hybrid_calendar.store.postgres.connection import PostgresConnection

_TAKE = (  # its own statement after the lock, so it sees every earlier taker's commit
    "WITH expired AS (DELETE FROM budget_usage WHERE name = %s AND slot < %s), "
    "usage AS (SELECT COALESCE(SUM(used), 0) AS used, MIN(slot) AS first "
    "FROM budget_usage WHERE name = %s AND slot >= %s AND used > 0), "
    "added AS (INSERT INTO budget_usage (name, slot, used) SELECT %s, %s, %s FROM usage "
    "WHERE usage.used + %s <= %s ON CONFLICT (name, slot) DO UPDATE SET "
    "used = budget_usage.used + excluded.used RETURNING 1) "
    "SELECT usage.first, EXISTS (SELECT 1 FROM added) AS taken FROM usage")
"""One statement: drop the expired slots, sum the window, add the units if they fit (the
expired slots are filtered out of the sum, as the deletion is invisible to the statement
that makes it)."""


class PostgresBudgets(PostgresConnection):
    """``take_budget`` in one transaction of two statements (lock, take) per take;
    ``read_budgets`` in one query."""

    async def take_budget(self, name: str, units: int, limit: int, window_seconds: float,
                          now: datetime) -> float:
        slots = BudgetSlots.at(now, window_seconds)
        # Its own transaction, never a group's (:mod:`.group_commit`): the lock is held
        # until the commit, and a group would hold it for every write of the group while
        # the takers of every process wait (measured: several times the lock waits).
        async with self.transaction() as conn:
            await conn.execute("SELECT pg_advisory_xact_lock(hashtext(%s))",
                               ("budget:" + name,))
            cursor = await conn.execute(_TAKE, (name, slots.oldest, name, slots.oldest, name,
                                                slots.current, units, units, limit))
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
