"""On PostgreSQL, while another process runs a job, a worker that finishes a job takes the
same lane's next due job first (``finish_and_claim``): the sync an activation queued then
runs in the process that holds that user's token and data key, instead of wherever the
next claim happens.

Only due jobs of the lane are preferred; without one, the claim is the oldest due job of
a free lane, as before. A process alone keeps the queue's order (which measured faster
for one process), as SQLite and the base class's default (finish, then claim) do: this is
a test of the PostgreSQL store, not of ``StoreTests``. Every test process shares one
``PROCESS_ID``, so another process's running job is a row marked as claimed by another."""

from __future__ import annotations

from datetime import timedelta

import pytest

from hybrid_calendar.store.postgres.store import PostgresStore
from hybrid_calendar.store.testing.support import NOW

pytestmark = pytest.mark.anyio

SECOND = timedelta(seconds=1)


async def _running_elsewhere(store: PostgresStore) -> None:
    """A job of another lane, running in another process."""
    await store.enqueue("sync", "sync:elsewhere", {}, NOW - 10 * SECOND, lane="user:x")
    job = await store.claim(NOW, 60)
    assert job is not None and job.key == "sync:elsewhere"
    await store.execute("UPDATE jobs SET claimed_by = 'another-process' WHERE id = %s",
                        (job.id,))


async def _activation_that_queued_its_sync(store: PostgresStore) -> int:
    """Two activations queued; the first claimed, and its user's first sync queued
    (younger than the other activation). The claimed job's id."""
    await store.enqueue("activate", "activate:u1", {}, NOW - 3 * SECOND, lane="user:u1")
    await store.enqueue("activate", "activate:u2", {}, NOW - 2 * SECOND, lane="user:u2")
    first = await store.claim(NOW, 60)
    assert first is not None and first.key == "activate:u1"
    await store.enqueue("sync", "sync:u1", {}, NOW - SECOND, lane="user:u1")
    return first.id


async def test_the_finished_jobs_lane_goes_first(pg_store: PostgresStore) -> None:
    store = pg_store
    await _running_elsewhere(store)
    second = await store.finish_and_claim(await _activation_that_queued_its_sync(store),
                                          NOW, 60)
    assert second is not None and (second.key, second.attempts) == ("sync:u1", 1)
    third = await store.finish_and_claim(second.id, NOW, 60)  # its lane has no job left
    assert third is not None and third.key == "activate:u2"
    assert await store.job_counts() == {"running": 2}


async def test_a_process_alone_keeps_the_queues_order(pg_store: PostgresStore) -> None:
    store = pg_store
    second = await store.finish_and_claim(await _activation_that_queued_its_sync(store),
                                          NOW, 60)
    assert second is not None and second.key == "activate:u2"
    third = await store.finish_and_claim(second.id, NOW, 60)
    assert third is not None and third.key == "sync:u1"


async def test_a_job_of_the_lane_that_is_not_due_waits(pg_store: PostgresStore) -> None:
    store = pg_store
    await _running_elsewhere(store)
    await store.enqueue("activate", "activate:u1", {}, NOW - 2 * SECOND, lane="user:u1")
    await store.enqueue("sync", "sync:u2", {}, NOW - SECOND, lane="user:u2")
    first = await store.claim(NOW, 60)
    assert first is not None and first.key == "activate:u1"
    await store.enqueue("sync", "sync:u1", {}, NOW + 10 * SECOND, lane="user:u1")
    second = await store.finish_and_claim(first.id, NOW, 60)
    assert second is not None and second.key == "sync:u2"
    assert await store.finish_and_claim(second.id, NOW, 60) is None
    later = await store.claim(NOW + 10 * SECOND, 60)
    assert later is not None and later.key == "sync:u1"


async def test_a_busy_lane_is_still_skipped(pg_store: PostgresStore) -> None:
    """The preferred lane is the finished job's own: another lane with a running job
    keeps its queued ones waiting, whatever their age."""
    store = pg_store
    await _running_elsewhere(store)
    await store.enqueue("activate", "activate:u2", {}, NOW - 4 * SECOND, lane="user:u2")
    await store.enqueue("activate", "activate:u1", {}, NOW - 3 * SECOND, lane="user:u1")
    running = await store.claim(NOW, 60)
    assert running is not None and running.key == "activate:u2"
    await store.enqueue("sync", "sync:u2", {}, NOW - 2 * SECOND, lane="user:u2")
    mine = await store.claim(NOW, 60)
    assert mine is not None and mine.key == "activate:u1"
    await store.enqueue("sync", "sync:u3", {}, NOW - SECOND, lane="user:u3")
    after = await store.finish_and_claim(mine.id, NOW, 60)  # u1 has none; u2 is busy
    assert after is not None and after.key == "sync:u3"
