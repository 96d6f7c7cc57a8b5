"""The built-in stores read a sync job's user context with its claim (``Job.context``):
the sync then makes no read of its own. Both stores, through ``claim`` and
``finish_and_claim``; the conformance suite checks that what a backend reads is right."""

from __future__ import annotations

import pytest

from hybrid_calendar.store.base import Store
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
