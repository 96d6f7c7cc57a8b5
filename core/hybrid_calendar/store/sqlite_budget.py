"""Shared request budgets on SQLite (:mod:`hybrid_calendar.store.budget`, pools:
:mod:`hybrid_calendar.store.budget_pool`)."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from datetime import datetime

from hybrid_calendar.store.budget import BudgetSlots, BudgetUse
from hybrid_calendar.store.budget_pool import counted_with_pool, earliest_slot, is_member
from hybrid_calendar.store.sqlite_base import SqliteConnection, transaction

READ_CHUNK = 500
"""Budget names per query of :meth:`SqliteBudgets.read_budgets` (SQLite's parameter
limit is far above it)."""


def _members(pool: str) -> tuple[str, str]:
    """Bounds of the names ``<pool>:<member>`` (in SQLite's binary order: ';' follows ':')."""
    return pool + ":", pool + ";"


class SqliteBudgets(SqliteConnection):
    """``take_budget`` and ``take_budget_pool`` each in one write transaction (``BEGIN
    IMMEDIATE`` serializes takers); ``read_budgets`` reads the same rows without
    writing."""

    async def take_budget(self, name: str, units: int, limit: int, window_seconds: float,
                          now: datetime, *, pool: str | None = None) -> float:
        if pool is not None and not is_member(name, pool):
            raise ValueError(f"budget {name!r} is not a member of pool {pool!r}")
        slots = BudgetSlots.at(now, window_seconds)
        counted = (name,) if pool is None else (name, pool)
        marks = ", ".join("?" * len(counted))

        def work() -> float:
            with transaction(self._conn_or_fail()) as conn:
                conn.execute("DELETE FROM budget_usage WHERE name = ? AND slot < ?",
                             (name, slots.oldest))
                used, first = conn.execute(
                    f"SELECT COALESCE(SUM(used), 0), MIN(slot) FROM budget_usage "
                    f"WHERE name IN ({marks}) AND slot >= ? AND used > 0",
                    (*counted, slots.oldest)).fetchone()
                if used + units > limit:
                    return slots.wait_until_free(now, first)
                _add(conn, name, slots.current, units)
                return 0.0
        return float(await self._run(work))

    async def take_budget_pool(self, pool: str, units: int, limit: int,
                               window_seconds: float, now: datetime) -> float:
        slots = BudgetSlots.at(now, window_seconds)
        low, high = _members(pool)

        def work() -> float:
            with transaction(self._conn_or_fail()) as conn:
                conn.execute("DELETE FROM budget_usage WHERE ((name > ? AND name < ?) OR "
                             "name = ?) AND slot < ?", (low, high, pool, slots.oldest))
                held, held_first = conn.execute(
                    "SELECT COALESCE(SUM(used), 0), MIN(slot) FROM budget_usage "
                    "WHERE name = ? AND used > 0", (pool,)).fetchone()
                busiest = conn.execute(
                    "SELECT SUM(used) AS total, MIN(slot) FROM budget_usage "
                    "WHERE name > ? AND name < ? AND used > 0 GROUP BY name "
                    "ORDER BY total DESC LIMIT 1", (low, high)).fetchone()
                member_used, member_first = busiest if busiest is not None else (0, None)
                if held + member_used + units > limit:
                    return slots.wait_until_free(now, earliest_slot(held_first, member_first))
                _add(conn, pool, slots.current, units)
                return 0.0
        return float(await self._run(work))

    async def read_budgets(self, names: Sequence[str], window_seconds: float, now: datetime,
                           *, pool: str | None = None) -> dict[str, BudgetUse]:
        slots = BudgetSlots.at(now, window_seconds)
        wanted = list(dict.fromkeys(names))
        asked = wanted if pool is None else [*wanted, pool]

        def work() -> dict[str, tuple[int, int | None]]:
            found: dict[str, tuple[int, int | None]] = {}
            conn = self._conn_or_fail()
            for start in range(0, len(asked), READ_CHUNK):
                chunk = asked[start:start + READ_CHUNK]
                marks = ", ".join("?" * len(chunk))
                for name, used, first in conn.execute(
                        f"SELECT name, SUM(used), MIN(slot) FROM budget_usage WHERE name IN "
                        f"({marks}) AND slot >= ? AND used > 0 GROUP BY name",
                        (*chunk, slots.oldest)):
                    found[str(name)] = (int(used), int(first))
            return found

        found = await self._run(work)
        return {name: BudgetUse.of(slots, now, *counted_with_pool(found, name, pool))
                for name in wanted}


def _add(conn: sqlite3.Connection, name: str, slot: int, units: int) -> None:
    conn.execute("INSERT INTO budget_usage (name, slot, used) VALUES (?, ?, ?) "
                 "ON CONFLICT (name, slot) DO UPDATE SET used = used + excluded.used",
                 (name, slot, units))

