"""On PostgreSQL: wake the streams of users whose events another process (or this one)
recorded.

The outbox writer sends ``NOTIFY hybrid_calendar_people, '<user id>'`` in the transaction
that adds a user's events (:func:`~.db.announce`). Every process holds one dedicated
connection that ``LISTEN``s on that channel and wakes the user's open streams in its hub;
each then reads the outbox after its last ``seq``. After a lost connection it reconnects
and wakes every stream once, so nothing committed meanwhile is left unread.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING

from hybrid_calendar.people.db import OUTBOX_CHANNEL

if TYPE_CHECKING:
    from hybrid_calendar.people.hub import StreamHub

log = logging.getLogger(__name__)
RECONNECT_SECONDS = 1.0


async def follow_outbox(url: str, hub: StreamHub, listening: asyncio.Event) -> None:
    """Wake streams on every announcement until cancelled; ``listening`` is set once the
    first ``LISTEN`` is in place."""
    import psycopg  # the postgres extra: only imported on a PostgreSQL store

    while True:
        try:
            async with await psycopg.AsyncConnection.connect(url, autocommit=True) as conn:
                await conn.execute(f"LISTEN {OUTBOX_CHANNEL}")
                hub.wake_all()
                listening.set()
                async for notice in conn.notifies():
                    hub.wake(notice.payload)
        except psycopg.Error as err:
            log.warning("stream listener lost its PostgreSQL connection (%s); reconnecting",
                        err)
            await asyncio.sleep(RECONNECT_SECONDS)
