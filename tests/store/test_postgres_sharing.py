"""Several processes on one PostgreSQL database: each store here has its own connection
pool, as a separate gateway process would, and they race on purpose."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest

from hybrid_calendar.models import NotificationKind
from hybrid_calendar.store.base import PROCESS_ID
from hybrid_calendar.store.postgres.store import PostgresStore
from hybrid_calendar.store.testing import NOW, ReversibleCipher
from hybrid_calendar.store.testing.samples import ALICE, BOB, join_button, seed

pytestmark = pytest.mark.anyio
PROCESSES = 4


@pytest.fixture
async def stores(postgres_url: str) -> AsyncIterator[list[PostgresStore]]:
    opened = [PostgresStore(postgres_url, ReversibleCipher(), pool_size=4)
              for _ in range(PROCESSES)]
    for store in opened:
        await store.open()
    try:
        yield opened
    finally:
        for store in opened:
            await store.close()


async def test_racing_claims_take_each_job_once_and_one_per_lane(
        stores: list[PostgresStore]) -> None:
    for user in range(10):
        for kind in ("sync", "activate", "deactivate"):
            await stores[0].enqueue(kind, f"{kind}:u{user}", {}, NOW, lane=f"user:u{user}")
    claimants = stores * 5
    claimed = await asyncio.gather(*(store.claim(NOW, 60) for store in claimants))
    jobs = [job for job in claimed if job is not None]
    assert len({job.id for job in jobs}) == len(jobs)  # no job taken twice
    lanes = [job.key.split(":")[1] for job in jobs]
    assert len(set(lanes)) == len(lanes) == 10  # one running job per user, every user
    holders = await stores[0].fetch("SELECT DISTINCT claimed_by FROM jobs "
                                    "WHERE state = 'running'")
    assert {row["claimed_by"] for row in holders} <= {store.notify_source for store in stores}
    assert all(row["claimed_by"].startswith(PROCESS_ID + "/") for row in holders)  # operators
    for store, job in zip(claimants, claimed, strict=True):  # each by its holder
        if job is not None:
            await store.finish(job.id)
    assert await stores[1].job_counts() == {"queued": 20}


async def test_racing_outbox_claims_hand_each_notification_to_one_process(
        stores: list[PostgresStore]) -> None:
    await seed(stores[0], ALICE, BOB)
    for user in (ALICE, BOB):
        await stores[0].schedule(user, [join_button(f"e{i}", user=user) for i in range(30)])
    kinds = [NotificationKind.JOIN_BUTTON]
    batches = await asyncio.gather(*(store.due_notifications(NOW, kinds, limit=7)
                                     for store in stores * 3))
    keys = [item.key for batch in batches for _user, item in batch]
    assert len(keys) == len(set(keys)) == 60  # all of them, none twice
    assert await stores[0].due_notifications(NOW + timedelta(seconds=60), kinds) == []


async def test_racing_budget_takes_never_exceed_the_limit(
        stores: list[PostgresStore]) -> None:
    results = await asyncio.gather(*(store.take_budget("google:project", 1, 25, 60.0, NOW)
                                     for store in stores * 10))
    assert sum(1 for wait in results if wait == 0) == 25


async def test_racing_pool_and_member_takes_never_exceed_a_member_limit(
        stores: list[PostgresStore]) -> None:
    kinds = ["member", "pool"] * 12
    results = await asyncio.gather(*(
        store.take_budget("g:a", 2, 25, 60.0, NOW, pool="g") if kind == "member"
        else store.take_budget_pool("g", 3, 25, 60.0, NOW)
        for store in stores for kind in kinds))
    taken = [(kind, wait == 0) for kind, wait in zip(kinds * len(stores), results,
                                                       strict=True)]
    own = 2 * sum(1 for kind, ok in taken if ok and kind == "member")
    held = 3 * sum(1 for kind, ok in taken if ok and kind == "pool")
    assert 25 - 3 < own + held <= 25  # the member's limit holds its own and the pool's
    seen = await stores[1].read_budgets(["g:a", "g:b"], 60.0, NOW, pool="g")
    assert (seen["g:a"].used, seen["g:b"].used) == (own + held, held)

async def test_a_job_queued_by_one_process_wakes_another(
        stores: list[PostgresStore]) -> None:
    listening, woken = asyncio.Event(), asyncio.Event()

    def wake() -> None:
        (woken if listening.is_set() else listening).set()

    listener = asyncio.create_task(stores[1].listen_for_jobs(wake))
    try:
        await asyncio.wait_for(listening.wait(), 10)  # the first call says it listens
        await stores[2].enqueue("sync", "sync:u1", {}, NOW)
        await asyncio.wait_for(woken.wait(), 10)
    finally:
        listener.cancel()
        await asyncio.gather(listener, return_exceptions=True)
