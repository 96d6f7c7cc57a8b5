"""Named leases on PostgreSQL (:meth:`Store.hold_lease`): which of several gateway
processes runs a duty meant to run once, such as the engine's sweep.

One statement takes a free or lapsed lease, or extends the holder's own, and returns the
row only when the caller holds it afterwards (table ``leases``, migration ``m019``);
another gives it up, for its holder only.
"""

from __future__ import annotations

from datetime import datetime

from hybrid_calendar.store.postgres.connection import PostgresConnection

_HOLD = ("INSERT INTO leases (name, holder, until) VALUES (%s, %s, %s) "
         "ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, until = excluded.until "
         "WHERE leases.until < %s OR leases.holder = excluded.holder RETURNING holder")
"""Insert the lease, or take it over when it lapsed, or extend it for its holder: a row
comes back only then (``ON CONFLICT … WHERE`` false updates nothing and returns nothing)."""

_RELEASE = "DELETE FROM leases WHERE name = %s AND holder = %s"
"""Give up a lease, only the holder's own."""


class PostgresLeases(PostgresConnection):
    """:meth:`Store.hold_lease` across every process sharing the database."""

    async def hold_lease(self, name: str, holder: str, now: datetime, seconds: float
                         ) -> bool:
        """Take or keep the lease ``name`` for ``holder`` until ``now + seconds``; True
        when ``holder`` holds it (:meth:`Store.hold_lease`)."""
        moment = now.timestamp()
        rows = await self.fetch_written(_HOLD, (name, holder, moment + seconds, moment))
        return bool(rows)

    async def release_lease(self, name: str, holder: str) -> None:
        """Give up the lease ``name`` if ``holder`` holds it (:meth:`Store.release_lease`)."""
        await self.execute(_RELEASE, (name, holder))
