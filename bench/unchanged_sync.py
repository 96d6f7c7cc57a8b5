"""A sync that finds every meeting as stored, against one that finds every meeting changed.

Each user's page of realistic meetings (``bench/parse_join.py``'s event mix, converted and
join-detected as the engine does) goes through ``Store.write_sync`` four times, phase by
phase for all users: ``first`` (nothing stored), ``unchanged`` (the same page again: a
safety-net or token-reset full sync), ``all changed`` (every title changed: every row
written, what each unchanged sync cost before the stores compared) and ``one changed``
(one title changed again).
Per sync and phase it prints the gateway's CPU (``time.process_time``: sealing, digests,
psycopg or the SQLite thread), the meeting rows written (PostgreSQL: ``xmin`` changes;
SQLite: the store's count) and the announcements queued; on PostgreSQL also the server's
execution time and WAL bytes (``pg_stat_statements``, ``pg_current_wal_lsn``). The
cipher is the real one (local KMS, AES-GCM and HMAC). The last line reads
``unchanged sync: pg X µs CPU (Y × all changed), server X ms (Y ×), N rows; sqlite …``.

    .venv/bin/python bench/unchanged_sync.py --users 100 --events 50

A/B: ``PYTHONPATH`` on each checkout's ``core`` (the benchmark uses only ``Store``).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from hybrid_calendar.crypto import FieldCipher, GatewayKms, KeyRepository
from hybrid_calendar.crypto.testing import SqliteRunner, build_gateway
from hybrid_calendar.engine.sync import meeting_from_event
from hybrid_calendar.join_info.detect import detect
from hybrid_calendar.models import (
    Meeting,
    NotificationKind,
    Organisation,
    ScheduledNotification,
    User,
    UserState,
)
from hybrid_calendar.store.base import Store, SyncWrite
from hybrid_calendar.store.postgres.local_server import LocalPostgres
from hybrid_calendar.store.postgres.store import PostgresStore
from hybrid_calendar.store.sqlite import SqliteStore
from hybrid_calendar_google.event_json import event_from_google

sys.path.insert(0, str(Path(__file__).parent))
from parse_join import make_events  # the sibling benchmark's realistic event mix

ORG = Organisation(id="org", name="Bench", domain="example.com")
PHASES = ("first", "unchanged", "all changed", "one changed")


@dataclass
class Phase:
    """What one phase cost, summed over its syncs."""

    cpu: float = 0.0
    rows: int = 0
    announced: int = 0
    server_ms: float = 0.0
    wal: int = 0


def _pages(users: list[User], events: int) -> dict[str, list[Meeting]]:
    resources = make_events(events)
    pages = {}
    for user in users:
        found = [event_from_google(r, user.email) for r in resources]
        pages[user.id] = [meeting_from_event(user, e, detect(e)) for e in found
                          if e.start is not None and e.end is not None]
    return pages


def _page_of(phase: str, page: list[Meeting]) -> list[Meeting]:
    """The page each phase syncs (each phase follows the one before it)."""
    if phase in ("all changed", "one changed"):
        page = [replace(m, title=m.title + " (moved)") for m in page]
    if phase == "one changed":
        page[0] = replace(page[0], title=page[0].title + " again")
    return page


def _write(user: User, page: list[Meeting], phase: str) -> SyncWrite:
    announcement = ScheduledNotification(
        key=f"meetings:{user.id}:{phase}", user_id=user.id, event_id=None,
        due_at=datetime.now(UTC), start=None, end=None,
        payload={"full_sync": True}, kind=NotificationKind.MEETINGS_CHANGED)
    return SyncWrite(user, page, [], f"cursor-{phase}", full_sync=True,
                     synced_at=announcement.due_at, announcement=announcement)


async def _run(store: Store, users: list[User], pages: dict[str, list[Meeting]],
               measure: Callable[[], Awaitable[dict[str, Any]]]) -> dict[str, Phase]:
    results: dict[str, Phase] = {}
    for phase in PHASES:
        before = await measure()
        found = Phase()
        for user in users:
            write = _write(user, _page_of(phase, pages[user.id]), phase)
            started = time.process_time()
            written = await store.write_sync(write)
            found.cpu += time.process_time() - started
            found.announced += written.announced
            found.rows += written.applied.upserted
        after = await measure()
        found.server_ms = after["server_ms"] - before["server_ms"]
        found.wal = after["wal"] - before["wal"]
        if "rows" in after:  # rows actually written, whatever the store counted
            found.rows = after["rows"] - before["rows"]
        results[phase] = found
    return results


async def _postgres(cipher: FieldCipher, users: list[User],
                    pages: dict[str, list[Meeting]]) -> dict[str, Phase]:
    server = LocalPostgres(durable=True, settings={
        "shared_preload_libraries": "pg_stat_statements", "pg_stat_statements.track": "top"})
    server.start()
    try:
        store = PostgresStore(server.url, cipher, pool_size=4)
        await store.open()
        await store.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
        await _seed(store, users)
        versions: dict[str, str] = {}
        written = [0]  # meeting rows written so far (their xmin changed)

        async def measure() -> dict[str, Any]:
            rows = await store.fetch("SELECT user_id || '/' || event_id AS id, "
                                     "xmin::text AS version FROM meetings")
            written[0] += sum(versions.get(r["id"]) != r["version"] for r in rows)
            versions.update((r["id"], r["version"]) for r in rows)
            stats = await store.fetch(
                "SELECT COALESCE(sum(total_exec_time), 0) AS ms FROM pg_stat_statements "
                "WHERE query LIKE 'WITH gone AS%%'")
            wal = await store.fetch("SELECT pg_current_wal_lsn() - '0/0'::pg_lsn AS wal")
            return {"server_ms": float(stats[0]["ms"]), "wal": int(wal[0]["wal"]),
                    "rows": written[0]}
        results = await _run(store, users, pages, measure)
        await store.close()
        return results
    finally:
        server.stop()


async def _sqlite(cipher: FieldCipher, users: list[User], pages: dict[str, list[Meeting]],
                  path: Path) -> dict[str, Phase]:
    store = SqliteStore(str(path), cipher)
    await store.open()
    await _seed(store, users)

    async def measure() -> dict[str, Any]:
        return {"server_ms": 0.0, "wal": 0}
    results = await _run(store, users, pages, measure)
    await store.close()
    return results


async def _seed(store: Store, users: list[User]) -> None:
    await store.put_organisation(ORG)
    for user in users:
        await store.put_user(user)


def _report(name: str, results: dict[str, Phase], syncs: int) -> None:
    for phase, found in results.items():
        server = (f", server {found.server_ms / syncs:.2f} ms, "
                  f"WAL {found.wal / syncs / 1024:.1f} kB" if name == "pg" else "")
        print(f"{name:6} {phase:12} {found.cpu / syncs * 1e6:8.0f} µs CPU per sync, "
              f"{found.rows / syncs:5.1f} rows, {found.announced / syncs:.2f} announced"
              f"{server}")


def _ratio(results: dict[str, Phase], field: str) -> float:
    base = getattr(results["all changed"], field)
    return float(getattr(results["unchanged"], field) / base) if base else 0.0


async def main() -> None:
    """Run both stores and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=100)
    parser.add_argument("--events", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=1,
                        help="repeat and report the median unchanged/all-changed ratios")
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="unchanged-sync-"))
    users = [User(id=f"user-{n:04d}", org_id=ORG.id, email=f"user{n}@example.com",
                  state=UserState.ACTIVE) for n in range(args.users)]
    pages = _pages(users, args.events)
    ratios: dict[str, list[float]] = {"pg": [], "pg server": [], "sqlite": []}
    last: dict[str, dict[str, Phase]] = {}
    for round_ in range(args.rounds):
        gateway = build_gateway(["kms_local"], {"gateway": {"data_dir": str(tmp / f"kms{round_}")}})
        runner = SqliteRunner(tmp / f"keys{round_}.db")
        cipher = FieldCipher(GatewayKms(gateway), KeyRepository(runner), gateway.clock)
        last["pg"] = await _postgres(cipher, users, pages)
        last["sqlite"] = await _sqlite(cipher, users, pages, tmp / f"store{round_}.sqlite3")
        await cipher.aclose()
        runner.close()
        ratios["pg"].append(_ratio(last["pg"], "cpu"))
        ratios["pg server"].append(_ratio(last["pg"], "server_ms"))
        ratios["sqlite"].append(_ratio(last["sqlite"], "cpu"))
    for name in ("pg", "sqlite"):
        _report(name, last[name], args.users)
    pg, sqlite = last["pg"]["unchanged"], last["sqlite"]["unchanged"]
    print(f"unchanged sync: pg {pg.cpu / args.users * 1e6:.0f} µs CPU "
          f"({statistics.median(ratios['pg']):.2f} × all changed), server "
          f"{pg.server_ms / args.users:.2f} ms ({statistics.median(ratios['pg server']):.2f} ×), "
          f"{pg.rows / args.users:.1f} rows, {pg.announced / args.users:.2f} announced; "
          f"sqlite {sqlite.cpu / args.users * 1e6:.0f} µs CPU "
          f"({statistics.median(ratios['sqlite']):.2f} × all changed), "
          f"{sqlite.rows / args.users:.1f} rows, {sqlite.announced / args.users:.2f} announced "
          f"({args.users} users × {args.events} events)")


if __name__ == "__main__":
    asyncio.run(main())
