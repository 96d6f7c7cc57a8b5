"""Shared request budgets on SQLite (:mod:`hybrid_calendar.store.budget`)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from hybrid_calendar.store.budget import BudgetSlots, BudgetUse
from hybrid_calendar.store.sqlite_base import SqliteConnection, transaction

READ_CHUNK = 500
"""Budget names per query of :meth:`SqliteBudgets.read_budgets` (SQLite's parameter
limit is far above it)."""


class SqliteBudgets(SqliteConnection):
    """``take_budget`` in one write transaction (``BEGIN IMMEDIATE`` serializes takers);
    ``read_budgets`` reads the same rows without writing."""

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

    async def read_budgets(self, names: Sequence[str], window_seconds: float, now: datetime
                           ) -> dict[str, BudgetUse]:
        slots = BudgetSlots.at(now, window_seconds)
        wanted = list(dict.fromkeys(names))

        def work() -> dict[str, tuple[int, int | None]]:
            found: dict[str, tuple[int, int | None]] = {}
            conn = self._conn_or_fail()
            for start in range(0, len(wanted), READ_CHUNK):
                chunk = wanted[start:start + READ_CHUNK]
                marks = ", ".join("?" * len(chunk))
                for name, used, first in conn.execute(
                        f"SELECT name, SUM(used), MIN(slot) FROM budget_usage WHERE name IN "
                        f"({marks}) AND slot >= ? AND used > 0 GROUP BY name",
                        (*chunk, slots.oldest)):
                    found[str(name)] = (int(used), int(first))
            return found

        found = await self._run(work)
        return {name: BudgetUse.of(slots, now, *found.get(name, (0, None)))
                for name in wanted}
