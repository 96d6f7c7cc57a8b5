"""The audit log: who changed what, when, from where (table ``admin_audit``).

Every change made through the admin API, the admin page or an admin command is written
here, and so is every refused sign-in. Entries hold the actor's credential name, the
action, its target (an organisation or user id, never an address), the client address and
the outcome. :func:`audit_page` pages newest first by id (``before``), so a client pages
through a log that keeps growing without gaps or repeats.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from hybrid_calendar.admin.sql import execute, transaction

if TYPE_CHECKING:
    from sqlite_utils import Database

    from hybrid_calendar.gateway import Gateway

MAX_PAGE = 200


def cli_actor() -> str:
    """The audit actor of a command: ``cli:<login>`` (``cli`` when the login is unknown)."""
    import getpass

    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):
        return "cli"


async def record(gateway: Gateway, *, actor: str, action: str, target: str | None = None,
                 source: str | None = None, outcome: str = "ok",
                 details: dict[str, Any] | None = None) -> None:
    """Append one entry (details must hold no personal data: ids, counts, codes)."""
    row = [gateway.clock.now().timestamp(), actor, action, target, source, outcome,
           json.dumps(details or {}, sort_keys=True)]

    def insert(db: Database) -> None:
        with transaction(db):
            execute(db, "INSERT INTO admin_audit (at, actor, action, target, source, outcome, "
                       "details) VALUES (?, ?, ?, ?, ?, ?, ?)", row)

    await gateway.store.call(insert)


async def audit_page(gateway: Gateway, *, before: int | None = None, limit: int = 50
                     ) -> dict[str, Any]:
    """Up to ``limit`` entries older than id ``before`` (newest first), and the
    ``next_before`` to ask for the following page (``None`` at the end)."""
    limit = max(1, min(limit, MAX_PAGE))

    def read(db: Database) -> list[tuple[Any, ...]]:
        where, params = ("WHERE id < ?", [before]) if before is not None else ("", [])
        return list(execute(db,
            f"SELECT id, at, actor, action, target, source, outcome, details "
            f"FROM admin_audit {where} ORDER BY id DESC LIMIT ?",
            [*params, limit + 1]).fetchall())

    rows = await gateway.store.call(read)
    entries = [{"id": r[0], "at": datetime.fromtimestamp(r[1], UTC).isoformat(),
                "actor": r[2], "action": r[3], "target": r[4], "source": r[5],
                "outcome": r[6], "details": json.loads(r[7] or "{}")}
               for r in rows[:limit]]
    more = len(rows) > limit
    return {"entries": entries, "next_before": entries[-1]["id"] if more else None}
