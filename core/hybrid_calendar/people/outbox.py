"""The durable outbox behind the event stream.

Every notification for a user becomes one row, keyed by its idempotency key (a notification
delivered again is not recorded again) and numbered by ``seq``, which is the SSE event id.
A client that reconnects with ``Last-Event-ID: n`` is sent the rows after ``n``. Rows older
than ``people.outbox_retention_hours`` are purged; the highest purged ``seq`` is kept, so a
client asking for events older than that is told to reload (``reset``) instead of silently
missing them. Payloads are sealed under the user's data key.

The same SQL runs on SQLite and PostgreSQL (:mod:`.db`); on PostgreSQL writers of the
outbox are serialized (:func:`~.db.serialize_outbox`), so ``seq`` order is commit order
across processes.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from hybrid_calendar.models import User
from hybrid_calendar.people.db import Handle, execute, rows, run, sealer, write
from hybrid_calendar.store.sqlite_base import ts

if TYPE_CHECKING:
    from hybrid_calendar.gateway import Gateway
    from hybrid_calendar.store.base import Sealer

_FLOOR = "outbox_purged_seq"


@dataclass(frozen=True, slots=True)
class OutboxEvent:
    """One recorded stream event."""

    seq: int
    user_id: str
    kind: str
    key: str
    data: dict[str, Any]


def seal_with(user_sealer: Sealer, key: str, data: dict[str, Any]) -> str:
    """An event's payload sealed under the user's data key (``user_sealer``), bound to
    its record key."""
    return user_sealer.seal(json.dumps(data), table="people_outbox", row_id=key,
                            column="payload")


def insert(handle: Handle, user_id: str, kind: str, key: str, sealed: str,
           at: datetime) -> int | None:
    """Record one event (inside the caller's transaction); its ``seq``, or None when an
    event with the same key was recorded before."""
    found = execute(
        handle, "INSERT INTO people_outbox (user_id, kind, key, payload, created_at) "
        "VALUES (?, ?, ?, ?, ?) ON CONFLICT (key) DO NOTHING RETURNING seq",
        (user_id, kind, key, sealed, ts(at))).fetchone()
    return None if found is None else int(found[0])


async def since(gateway: Gateway, user: User, after: int, limit: int = 1000
                ) -> list[OutboxEvent]:
    """The user's events with ``seq > after``, oldest first."""
    found = await run(gateway, lambda handle: rows(
        handle, "SELECT * FROM people_outbox WHERE user_id = ? AND seq > ? ORDER BY seq "
        "LIMIT ?",
        (user.id, after, limit)))
    if not found:
        return []
    opener = await sealer(gateway, user.org_id, user.id)
    return [OutboxEvent(row["seq"], row["user_id"], row["kind"], row["key"], json.loads(
        opener.open(row["payload"], table="people_outbox", row_id=row["key"],
                    column="payload"))) for row in found]


async def latest_seq(gateway: Gateway) -> int:
    """The highest ``seq`` committed so far (0 for none): where a new client starts.

    Rows are only ever removed by retention, which remembers the highest it removed, so
    the larger of that and the newest row's is the newest ``seq`` handed out."""
    def work(handle: Handle) -> int:
        top = execute(handle, "SELECT max(seq) FROM people_outbox").fetchone()[0]
        floor = execute(handle, "SELECT value FROM people_meta WHERE name = ?",
                        (_FLOOR,)).fetchone()
        return max(int(top or 0), int(floor[0]) if floor else 0)
    return await run(gateway, work)


async def purged_floor(gateway: Gateway) -> int:
    """The highest ``seq`` removed by retention (events at or below it may be gone)."""
    found = await run(gateway, lambda handle: execute(
        handle, "SELECT value FROM people_meta WHERE name = ?", (_FLOOR,)).fetchone())
    return int(found[0]) if found else 0


async def purge_before(gateway: Gateway, cutoff: datetime) -> int:
    """Delete events recorded before ``cutoff``; remember the highest removed ``seq``."""
    def work(handle: Handle) -> int:
        with write(handle):
            top = execute(handle, "SELECT max(seq) FROM people_outbox WHERE created_at < ?",
                          (ts(cutoff),)).fetchone()[0]
            if top is None:
                return 0
            removed = execute(handle, "DELETE FROM people_outbox WHERE seq <= ?",
                              (top,)).rowcount
            execute(handle, "INSERT INTO people_meta (name, value) VALUES (?, ?) ON CONFLICT"
                    "(name) DO UPDATE SET value = excluded.value", (_FLOOR, str(top)))
            return int(removed)
    return await run(gateway, work)

