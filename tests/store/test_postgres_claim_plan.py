"""A claim on PostgreSQL reads the queue in its own order and stops at the first job it may
take, whatever the table's statistics say (migration ``m016_job_claim_order``).

Without the partial index, a fresh queue (no statistics yet, as in every benchmark run and
after every restore) was planned as "each queued job against every running one, then sort
them all": 2-3 ms of server CPU per claim at 200 queued jobs (docs/performance.md,
"PostgreSQL: the claim's plan").
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from hybrid_calendar.store.base import QueuedJob
from hybrid_calendar.store.postgres.queue import _CLAIM, _FINISH_AND_CLAIM
from hybrid_calendar.store.postgres.store import PostgresStore
from hybrid_calendar.store.sqlite_base import ts

pytestmark = pytest.mark.anyio

NOW = datetime(2026, 12, 1, 6, 0, tzinfo=UTC)


def _nodes(plan: dict[str, Any], *, skip: str | None = None) -> list[dict[str, Any]]:
    """Every node of an ``EXPLAIN (FORMAT JSON)`` plan (but those of the subquery aliased
    ``skip``, below its own node)."""
    found = [plan]
    if skip is not None and plan.get("Alias") == skip:
        return found
    for child in plan.get("Plans", []):
        found.extend(_nodes(child, skip=skip))
    return found


OWN_LANE = "own_lane"
"""The finish-and-claim's first branch: the due jobs of the finished job's lane (a
handful at most: one queued job per kind and user), which it may sort."""


async def _plan(store: PostgresStore, sql: str, params: tuple[Any, ...]) -> list[dict[str, Any]]:
    async with store.connection() as conn:  # EXPLAIN ANALYZE runs it: undo it after
        await conn.execute("BEGIN")
        cursor = await conn.execute("EXPLAIN (ANALYZE, FORMAT JSON) " + sql, params)
        row = await cursor.fetchone()
        await conn.execute("ROLLBACK")
    assert row is not None
    document = next(iter(row.values()))
    plan = (json.loads(document) if isinstance(document, str) else document)[0]["Plan"]
    return _nodes(plan, skip=OWN_LANE)


async def _queue_with_running_jobs(store: PostgresStore, queued: int, running: int) -> list[int]:
    await store.enqueue_many([QueuedJob("sync", f"sync:{n}", {"user_id": str(n)}, NOW)
                              for n in range(queued)], notify=False)
    claimed = [await store.claim(NOW, 300.0) for _ in range(running)]
    return [job.id for job in claimed if job is not None]


@pytest.mark.parametrize("analyzed", [False, True], ids=["fresh", "analyzed"])
async def test_a_claim_reads_the_queue_in_order_instead_of_sorting_it(
        pg_store: PostgresStore, analyzed: bool) -> None:
    running = await _queue_with_running_jobs(pg_store, 200, 8)
    assert len(running) == 8
    if analyzed:
        async with pg_store.connection() as conn:
            await conn.execute("ANALYZE jobs")
    now = ts(NOW)
    assert now is not None
    me = pg_store.notify_source  # the holder of the running jobs, as the store names it
    claims = {
        "claim": (_CLAIM, (now, now + 300, me)),
        "finish-and-claim": (_FINISH_AND_CLAIM, (running[0], me, now, me, now, now + 300,
                                                me)),
    }
    for name, (sql, params) in claims.items():
        nodes = await _plan(pg_store, sql, params)
        assert not [n for n in nodes if n["Node Type"] in ("Sort", "Incremental Sort")], name
        ordered = [n for n in nodes if n.get("Index Name") == "jobs_claim_order"]
        assert ordered, f"{name}: the claim does not walk jobs_claim_order"
        assert all(n["Actual Rows"] <= 1 for n in ordered), f"{name}: read past the first job"


async def test_claims_still_take_the_oldest_due_job_of_a_free_lane(pg_store: PostgresStore
                                                                  ) -> None:
    later = datetime(2026, 12, 1, 6, 5, tzinfo=UTC)
    await pg_store.enqueue_many([
        QueuedJob("sync", "sync:b", {"user_id": "b"}, NOW, lane="user:b"),
        QueuedJob("sync", "sync:late", {"user_id": "late"}, later, lane="user:late"),
        QueuedJob("activate", "activate:a", {"user_id": "a"}, NOW, lane="user:a"),
    ], notify=False)
    first = await pg_store.claim(NOW, 300.0)
    assert first is not None and first.key == "sync:b"  # oldest due (ties: queued first)
    await pg_store.enqueue("sync", "sync:b2", {"user_id": "b"}, NOW, lane="user:b",
                           notify=False)
    second = await pg_store.claim(NOW, 300.0)
    assert second is not None and second.key == "activate:a"  # lane user:b is busy
    assert await pg_store.claim(NOW, 300.0) is None  # sync:late is not due, b2's lane busy
    third = await pg_store.finish_and_claim(first.id, NOW, 300.0)
    assert third is not None and third.key == "sync:b2"  # the lane is free again
    assert await pg_store.claim(later, 300.0) is not None  # due now
