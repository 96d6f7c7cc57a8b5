"""The built-in stores read a sync job's user context with its claim (``Job.context``):
the sync then makes no read of its own. Both stores, through ``claim`` and
``finish_and_claim``; the conformance suite checks that what a backend reads is right."""

from __future__ import annotations

import pytest

from hybrid_calendar.store.base import Store
from hybrid_calendar.store.postgres.store import PostgresStore
from hybrid_calendar.store.sqlite import SqliteStore
from hybrid_calendar.store.testing.samples import ALICE, BOB, seed
from hybrid_calendar.store.testing.support import NOW

pytestmark = pytest.mark.anyio


async def test_both_claims_carry_a_sync_jobs_context(either_store: Store) -> None:
    store = either_store
    await seed(store, ALICE, BOB)
    await store.set_out_of_office(BOB.id, True)
    await store.enqueue("sync", "sync:u1", {"user_id": ALICE.id}, NOW)
    await store.enqueue("sync", "sync:u2", {"user_id": BOB.id}, NOW)
    first = await store.claim(NOW, 60)
    assert first is not None and first.context is not None
    assert first.context == await store.get_user_context(ALICE.id)
    assert first.context.user.email == ALICE.email  # opened, not the sealed column
    second = await store.finish_and_claim(first.id, NOW, 60)
    assert second is not None and second.context is not None
    assert second.context == await store.get_user_context(BOB.id)
    assert second.context.sync_state.out_of_office is True


async def _insert_damaged_job(store: Store, key: str, payload: str) -> None:
    """A queued sync job whose payload column is not a JSON object (a damaged row)."""
    sql = ("INSERT INTO jobs (kind, key, lane, payload, state, run_at, attempts, created_at) "
           "VALUES ('sync', {0}, {0}, {0}, 'queued', {0}, 0, {0})")
    params = (key, key, payload, NOW.timestamp() - 10, NOW.timestamp())
    if isinstance(store, SqliteStore):
        await store.call(lambda db: db.execute(sql.format("?"), params))
    else:
        assert isinstance(store, PostgresStore)
        await store.execute(sql.format("%s"), params)


@pytest.mark.parametrize("payload", ["{not json", "[1, 2]", "null"])
async def test_a_damaged_payload_fails_its_job_not_the_claims(
        either_store: Store, payload: str, caplog: pytest.LogCaptureFixture) -> None:
    """The claim takes the job with an empty payload and a warning (its handler then
    fails, and the job is retried and parked as a failing job is); the claims after it
    go on, and the user's context is still read by the job's key."""
    store = either_store
    await seed(store, ALICE)
    await _insert_damaged_job(store, f"sync:{ALICE.id}", payload)
    await store.enqueue("sync", "sync:u2", {"user_id": "u2"}, NOW)
    damaged = await store.claim(NOW, 60)
    assert damaged is not None and damaged.key == f"sync:{ALICE.id}"
    assert dict(damaged.payload) == {}
    assert damaged.context is not None and damaged.context.user.id == ALICE.id
    assert "unreadable payload" in caplog.text
    following = await store.finish_and_claim(damaged.id, NOW, 60)
    assert following is not None and dict(following.payload) == {"user_id": "u2"}
