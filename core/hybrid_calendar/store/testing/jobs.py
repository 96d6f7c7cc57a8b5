"""Store suite, part 3: the durable job queue (coalescing, lanes, leases, retries, restarts)."""

from __future__ import annotations

from datetime import timedelta

import anyio
import pytest

from hybrid_calendar.store.base import QueuedJob, Store
from hybrid_calendar.store.testing.samples import ALICE, BOB, seed
from hybrid_calendar.store.testing.support import (
    NOW,
    ReversibleCipher,
    StoreBackend,
    StoreFixtures,
    Wakes,
    covers,
)

SECOND = timedelta(seconds=1)


class JobQueueTests(StoreFixtures):
    """The queue the engine's workers (in one process or several) claim jobs from."""

    @pytest.mark.anyio
    @covers("enqueue", "claim", "job_counts")
    async def test_enqueue_coalesces_by_key(self, store: Store) -> None:
        assert await store.job_counts() == {}
        assert await store.enqueue("sync", "sync:u1", {"user_id": "u1", "n": 1}, NOW) is True
        for _ in range(9):
            assert await store.enqueue("sync", "sync:u1", {"user_id": "u1"}, NOW) is False
        assert await store.job_counts() == {"queued": 1}
        job = await store.claim(NOW, 60)
        assert job is not None
        assert (job.kind, job.key, dict(job.payload)) == ("sync", "sync:u1",
                                                           {"user_id": "u1", "n": 1})
        assert (job.attempts, job.run_at) == (1, NOW)
        assert await store.job_counts() == {"running": 1}
        assert await store.claim(NOW, 60) is None

    @pytest.mark.anyio
    @covers("enqueue_many", "enqueue", "claim", "job_counts", "finish")
    async def test_enqueue_many_coalesces_by_key_and_keeps_lanes(self, store: Store) -> None:
        assert await store.enqueue_many([]) == []
        assert await store.enqueue("sync", "sync:u1", {"user_id": "u1"}, NOW) is True
        added = await store.enqueue_many([
            QueuedJob("sync", "sync:u1", {"user_id": "u1"}, NOW),  # queued already
            QueuedJob("activate", "activate:u2", {"user_id": "u2", "n": 1}, NOW - SECOND,
                      lane="user:u2"),
            QueuedJob("activate", "activate:u2", {"user_id": "u2", "n": 2}, NOW),  # again
            QueuedJob("sync", "sync:u2", {"user_id": "u2"}, NOW, lane="user:u2"),
            QueuedJob("sync", "sync:later", {}, NOW + 10 * SECOND)])
        assert added == [False, True, False, True, True]
        assert await store.job_counts() == {"queued": 4}
        first = await store.claim(NOW, 60)
        assert first is not None and (first.kind, first.key, dict(first.payload),
                                       first.run_at) == (
            "activate", "activate:u2", {"user_id": "u2", "n": 1}, NOW - SECOND)
        second = await store.claim(NOW, 60)
        assert second is not None and second.key == "sync:u1"
        assert await store.claim(NOW, 60) is None  # u2's sync waits for its lane
        await store.finish(first.id)
        third = await store.claim(NOW, 60)
        assert third is not None and third.key == "sync:u2"
        late = await store.claim(NOW + 10 * SECOND, 60)
        assert late is not None and late.key == "sync:later"

    @pytest.mark.anyio
    @covers("claim")
    async def test_claim_takes_due_jobs_oldest_first(self, store: Store) -> None:
        await store.enqueue("sync", "sync:late", {}, NOW + 10 * SECOND)
        await store.enqueue("sync", "sync:b", {}, NOW - SECOND)
        await store.enqueue("sync", "sync:a", {}, NOW - 2 * SECOND)
        first, second = await store.claim(NOW, 60), await store.claim(NOW, 60)
        assert first is not None and second is not None
        assert (first.key, second.key) == ("sync:a", "sync:b")
        assert await store.claim(NOW, 60) is None  # "late" is not due yet
        late = await store.claim(NOW + 10 * SECOND, 60)
        assert late is not None and late.key == "sync:late"

    @pytest.mark.anyio
    @covers("enqueue", "claim", "finish", "job_counts")
    async def test_a_running_key_is_never_claimed_twice(self, store: Store) -> None:
        await store.enqueue("sync", "sync:u1", {"user_id": "u1"}, NOW)
        running = await store.claim(NOW, 60)
        assert running is not None
        # a request arriving meanwhile queues one follow-up, which waits for the running one
        assert await store.enqueue("sync", "sync:u1", {"user_id": "u1"}, NOW) is True
        assert await store.enqueue("sync", "sync:u1", {"user_id": "u1"}, NOW) is False
        assert await store.job_counts() == {"queued": 1, "running": 1}
        assert await store.claim(NOW, 60) is None
        await store.finish(running.id)
        follow_up = await store.claim(NOW, 60)
        assert follow_up is not None and follow_up.key == "sync:u1"
        assert follow_up.id != running.id and follow_up.attempts == 1
        await store.finish(follow_up.id)
        assert await store.job_counts() == {}

    @pytest.mark.anyio
    @covers("enqueue", "claim", "finish_and_claim", "job_counts")
    async def test_finish_and_claim_frees_the_lane_for_the_claim(self, store: Store) -> None:
        await store.enqueue("activate", "activate:u1", {}, NOW - 2 * SECOND, lane="user:u1")
        await store.enqueue("sync", "sync:u1", {}, NOW - SECOND, lane="user:u1")
        await store.enqueue("sync", "sync:u2", {}, NOW, lane="user:u2")
        await store.enqueue("sync", "sync:later", {}, NOW + 10 * SECOND)
        first = await store.claim(NOW, 60)
        assert first is not None and first.key == "activate:u1"
        second = await store.finish_and_claim(first.id, NOW, 60)  # the lane's next job
        assert second is not None and (second.key, second.attempts) == ("sync:u1", 1)
        assert await store.job_counts() == {"queued": 2, "running": 1}
        third = await store.finish_and_claim(second.id, NOW, 60)
        assert third is not None and third.key == "sync:u2"
        assert await store.finish_and_claim(third.id, NOW, 60) is None  # none due
        assert await store.job_counts() == {"queued": 1}
        late = await store.finish_and_claim(third.id, NOW + 10 * SECOND, 60)  # gone already
        assert late is not None and late.key == "sync:later"
        assert await store.claim(NOW + 10 * SECOND, 60) is None
        assert await store.finish_and_claim(late.id, NOW + 10 * SECOND, 60) is None
        assert await store.job_counts() == {}

    @pytest.mark.anyio
    @covers("enqueue", "claim", "finish_and_claim", "get_user_context")
    async def test_a_claimed_sync_job_carries_its_users_context_or_none(
            self, store: Store) -> None:
        """A backend may read a sync job's user context with the claim (``Job.context``):
        then it is what :meth:`Store.get_user_context` reads; never for another kind, nor
        for a user not stored."""
        await seed(store, ALICE, BOB)
        await store.apply_changes(ALICE, [], [], "cursor-1", full_sync=True, synced_at=NOW)
        await store.enqueue("sync", "sync:u1", {"user_id": ALICE.id}, NOW - 3 * SECOND)
        await store.enqueue("activate", "activate:u2", {"user_id": BOB.id}, NOW - 2 * SECOND)
        await store.enqueue("sync", "sync:nobody", {"user_id": "nobody"}, NOW - SECOND)
        first = await store.claim(NOW, 60)
        assert first is not None and first.key == "sync:u1"
        if first.context is not None:
            assert first.context == await store.get_user_context(ALICE.id)
            assert first.context.sync_state.cursor == "cursor-1"
        second = await store.finish_and_claim(first.id, NOW, 60)
        assert second is not None and second.key == "activate:u2"
        assert second.context is None
        third = await store.finish_and_claim(second.id, NOW, 60)
        assert third is not None and third.key == "sync:nobody"
        assert third.context is None

    @pytest.mark.anyio
    @covers("enqueue", "claim", "finish")
    async def test_jobs_of_one_lane_run_one_at_a_time(self, store: Store) -> None:
        await store.enqueue("activate", "activate:u1", {}, NOW - SECOND, lane="user:u1")
        await store.enqueue("sync", "sync:u1", {}, NOW, lane="user:u1")
        await store.enqueue("sync", "sync:u2", {}, NOW, lane="user:u2")
        first = await store.claim(NOW, 60)
        assert first is not None and first.kind == "activate"
        other = await store.claim(NOW, 60)
        assert other is not None and other.key == "sync:u2"  # other lanes go on
        assert await store.claim(NOW, 60) is None  # u1's sync waits for its activation
        await store.finish(first.id)
        second = await store.claim(NOW, 60)
        assert second is not None and second.key == "sync:u1"

    @pytest.mark.anyio
    @covers("retry", "claim", "job_counts", "enqueue")
    async def test_retry_requeues_at_a_later_time_or_parks(self, store: Store) -> None:
        await store.enqueue("sync", "sync:u1", {"user_id": "u1"}, NOW)
        job = await store.claim(NOW, 60)
        assert job is not None
        await store.retry(job.id, "TransientError: HTTP 503", NOW + 5 * SECOND)
        assert await store.job_counts() == {"queued": 1}
        assert await store.claim(NOW + 4 * SECOND, 60) is None
        again = await store.claim(NOW + 5 * SECOND, 60)
        assert again is not None and (again.id, again.attempts) == (job.id, 2)
        await store.retry(again.id, "ProviderError: HTTP 400", None)
        assert await store.job_counts() == {"parked": 1}
        assert await store.claim(NOW + timedelta(days=365), 60) is None
        # a parked job neither blocks its key nor its lane
        assert await store.enqueue("sync", "sync:u1", {"user_id": "u1"}, NOW) is True
        fresh = await store.claim(NOW, 60)
        assert fresh is not None and fresh.id != job.id
        await store.retry(10**9, "no such job", NOW)  # an unknown job: nothing happens
        assert await store.job_counts() == {"parked": 1, "running": 1}
        # parked again: it replaces the key's parked job (one per key, not per failure)
        await store.retry(fresh.id, "ProviderError: HTTP 404", None)
        assert await store.job_counts() == {"parked": 1}
        await store.enqueue("sync", "sync:u2", {"user_id": "u2"}, NOW)
        other = await store.claim(NOW, 60)
        assert other is not None and other.key == "sync:u2"
        await store.retry(other.id, "ProviderError: HTTP 400", None)
        assert await store.job_counts() == {"parked": 2}  # another key's stays

    @pytest.mark.anyio
    @covers("retry", "enqueue", "claim", "job_counts")
    async def test_a_retry_yields_to_a_newer_request_for_the_key(self, store: Store) -> None:
        await store.enqueue("sync", "sync:u1", {}, NOW)
        failed = await store.claim(NOW, 60)
        assert failed is not None
        await store.enqueue("sync", "sync:u1", {}, NOW + 60 * SECOND)  # queued meanwhile
        await store.retry(failed.id, "boom", NOW + 5 * SECOND)
        assert await store.job_counts() == {"queued": 1}  # one job for the key, not two
        assert await store.claim(NOW + 59 * SECOND, 60) is None  # due at the later of the two
        merged = await store.claim(NOW + 60 * SECOND, 60)
        assert merged is not None and merged.key == "sync:u1"
        assert merged.attempts == 2  # the failed run's attempt counts
        await store.enqueue("sync", "sync:u1", {}, NOW + 60 * SECOND)  # a push, due at once
        await store.retry(merged.id, "rate limited", NOW + 180 * SECOND)  # Retry-After
        assert await store.claim(NOW + 179 * SECOND, 60) is None  # the backoff holds
        again = await store.claim(NOW + 180 * SECOND, 60)
        assert again is not None and again.attempts == 3

    @pytest.mark.anyio
    @covers("requeue_running", "claim", "job_counts")
    async def test_expired_leases_go_back_to_the_queue(self, store: Store) -> None:
        await store.enqueue("sync", "sync:u1", {}, NOW)
        await store.enqueue("sync", "sync:u2", {}, NOW)
        short = await store.claim(NOW, 30)
        long = await store.claim(NOW, 300)
        assert short is not None and long is not None
        assert await store.requeue_running(NOW + 29 * SECOND) == 0
        assert await store.requeue_running(NOW + 31 * SECOND) == 1  # only the expired lease
        assert await store.job_counts() == {"queued": 1, "running": 1}
        again = await store.claim(NOW + 31 * SECOND, 30)
        assert again is not None and (again.key, again.attempts) == (short.key, 2)
        await store.enqueue("sync", "sync:u1", {}, NOW)  # a follow-up queued meanwhile
        assert await store.requeue_running(NOW + timedelta(hours=1)) == 2
        assert await store.job_counts() == {"queued": 2}  # u1's lapsed run merged into it

    @pytest.mark.anyio
    @covers("extend_leases", "requeue_running", "claim", "finish")
    async def test_a_heartbeat_keeps_a_running_job_from_being_requeued(
            self, store: Store) -> None:
        await store.enqueue("sync", "sync:u1", {}, NOW)
        await store.enqueue("sync", "sync:u2", {}, NOW)
        alive = await store.claim(NOW, 30)
        done = await store.claim(NOW, 30)
        assert alive is not None and done is not None
        await store.finish(done.id)
        assert await store.extend_leases([alive.id, done.id], NOW + 90 * SECOND) == 1
        assert await store.extend_leases([], NOW) == 0
        assert await store.requeue_running(NOW + 60 * SECOND) == 0  # its lease moved on
        assert await store.requeue_running(NOW + 91 * SECOND) == 1

    @pytest.mark.anyio
    @covers("requeue_running", "open", "claim")
    async def test_running_jobs_survive_a_restart(
            self, store: Store, store_backend: StoreBackend, cipher: ReversibleCipher,
            called: set[str]) -> None:
        await store.enqueue("sync", "sync:u1", {"user_id": "u1"}, NOW)
        assert await store.claim(NOW, 300) is not None
        await store.close()  # the process dies with the job running
        restarted = await self.reopen(store_backend, cipher, called)
        try:
            assert await restarted.requeue_running() == 1  # all of them, lease or not
            job = await restarted.claim(NOW, 300)
            assert job is not None and job.attempts == 2
            assert dict(job.payload) == {"user_id": "u1"}
        finally:
            await restarted.close()

    @pytest.mark.anyio
    @covers("requeue_running", "claim", "finish", "finish_and_claim", "retry",
            "extend_leases", "enqueue")
    async def test_a_stale_holder_leaves_the_job_another_process_took_alone(
            self, store: Store, store_backend: StoreBackend, cipher: ReversibleCipher,
            called: set[str]) -> None:
        """A process that stalled past its job's lease (a paused machine, a network split)
        and then records the job's outcome acts on nothing: another process took the job
        over and runs it, and the user's lane stays that run's. (A store that one process
        alone uses has no other process to take a job over.)"""
        other = await self.reopen(store_backend, cipher, called)
        try:
            await store.enqueue("sync", "sync:u1", {"user_id": "u1"}, NOW, lane="user:u1")
            stale = await store.claim(NOW, 30)
            assert stale is not None
            later = NOW + 31 * SECOND  # the first process stalled past its lease
            assert await other.requeue_running(later) == 1
            taken = await other.claim(later, 30)
            assert taken is not None and taken.id == stale.id and taken.attempts == 2
            await store.enqueue("activate", "activate:u1", {"user_id": "u1"}, later,
                                lane="user:u1")
            if not store.shares_database:  # one process: each running job is its own
                assert await store.extend_leases([stale.id], later + 300 * SECOND) == 1
                await store.retry(stale.id, "failed", later)  # merged into nothing new
                done = await store.finish_and_claim(stale.id, later, 30)
                assert done is not None and done.key == "activate:u1"
                await store.finish(done.id)
                assert await store.job_counts() == {}
                return
            # the first process wakes up and records its outcome, in every way it can
            assert await store.extend_leases([stale.id], later + 300 * SECOND) == 0
            await store.retry(stale.id, "failed late", later + SECOND)
            assert await store.finish_and_claim(stale.id, later, 30) is None
            await store.finish(stale.id)
            assert await store.claim(later, 30) is None  # the lane is the new holder's
            assert await store.job_counts() == {"running": 1, "queued": 1}
            await other.finish(taken.id)  # the new holder's own outcome counts
            nxt = await other.claim(later, 30)
            assert nxt is not None and nxt.key == "activate:u1"
        finally:
            await other.close()

    @pytest.mark.anyio
    @covers("listen_for_jobs", "enqueue", "enqueue_many")
    async def test_listeners_wake_when_any_store_on_the_database_queues_a_job(
            self, store: Store, store_backend: StoreBackend, cipher: ReversibleCipher,
            called: set[str]) -> None:
        wakes = Wakes()
        other = await self.reopen(store_backend, cipher, called)
        try:
            async with anyio.create_task_group() as tasks:
                tasks.start_soon(store.listen_for_jobs, wakes)
                await wakes.reach(1)  # the first call: listening started
                assert await other.enqueue("sync", "sync:u1", {}, NOW) is True
                await wakes.reach(2)  # a job queued through another store wakes it
                assert await other.enqueue_many([QueuedJob("sync", "sync:u2", {}, NOW),
                                                 QueuedJob("sync", "sync:u3", {}, NOW)]) \
                    == [True, True]
                await wakes.reach(4)  # one wake per job queued together
                tasks.cancel_scope.cancel()
        finally:
            await other.close()

    @pytest.mark.anyio
    @covers("listen_for_jobs", "enqueue", "enqueue_many")
    async def test_neither_a_stores_own_job_nor_a_quiet_one_wakes_its_listener(
            self, store: Store, store_backend: StoreBackend, cipher: ReversibleCipher,
            called: set[str]) -> None:
        wakes = Wakes()
        other = await self.reopen(store_backend, cipher, called)
        try:
            async with anyio.create_task_group() as tasks:
                tasks.start_soon(store.listen_for_jobs, wakes)
                await wakes.reach(1)
                assert await store.enqueue("sync", "sync:own", {}, NOW) is True
                assert await other.enqueue("sync", "sync:quiet", {}, NOW,
                                           notify=False) is True
                assert await other.enqueue_many([QueuedJob("sync", "sync:quiet2", {}, NOW)],
                                                notify=False) == [True]
                assert await other.enqueue("sync", "sync:told", {}, NOW) is True
                await wakes.reach(2)  # by the last one; the two before came first
                tasks.cancel_scope.cancel()
        finally:
            await other.close()
        assert wakes.count == 2  # listening, then the other store's job that asked to tell
        assert await store.job_counts() == {"queued": 4}
