"""Shared request budgets on SQLite (:mod:`hybrid_calendar.store.budget`)."""

from __future__ import annotations

from datetime import datetime

from hybrid_calendar.store.budget import BudgetSlots
from hybrid_calendar.store.sqlite_base import SqliteConnection, transaction


class SqliteBudgets(SqliteConnection):
    """``take_budget`` in one write transaction (``BEGIN IMMEDIATE`` serializes takers)."""

    async def take_budget(self, name: str, units: int, limit: int, window_seconds: float,
                          now: datetime) -> float:
        slots = BudgetSlots.at(now, window_seconds)

        def work() -> float:
            with transaction(self._conn_or_fail()) as conn:
                conn.execute("DELETE FROM budget_usage WHERE name = ? AND slot < ?",
                             (name, slots.oldest))
                used, first = conn.execute(
                    "SELECT COALESCE(SUM(used), 0), MIN(slot) FROM budget_usage "
                    "WHERE name = ? AND used > 0", (name,)).fetchone()
                if used + units > limit:
                    return slots.wait_until_free(now, first)
                conn.execute("INSERT INTO budget_usage (name, slot, used) VALUES (?, ?, ?) "
                             "ON CONFLICT (name, slot) DO UPDATE SET used = used + "
                             "excluded.used", (name, slots.current, units))
                return 0.0
        return float(await self._run(work))
