"""The built-in stores store a sync's health record with the sync's own write (no write
of its own): ``health_recorded`` on both of them, on both of PostgreSQL's paths."""

from __future__ import annotations

import pytest

from hybrid_calendar.admin.sql import execute
from hybrid_calendar.store.base import Store, SyncSuccess, SyncWrite
from hybrid_calendar.store.testing import NOW
from hybrid_calendar.store.testing.samples import ALICE, meeting, seed

pytestmark = pytest.mark.anyio



async def test_both_stores_record_the_health_with_the_write(either_store: Store) -> None:
    store = either_store
    await seed(store)
    for round_, (upserts, deleted) in enumerate((([meeting("e1")], []),
                                                 ([meeting("e1", 2)], ["e1"]))):
        written = await store.write_sync(SyncWrite(
            ALICE, upserts, deleted, f"c{round_}", full_sync=False, synced_at=NOW,
            health=SyncSuccess(NOW.timestamp(), 1.5 + round_, token_reset=True)))
        assert written.health_recorded
        row = await store.call(lambda db: execute(
            db, "SELECT last_sync_seconds, sync_token_resets FROM user_health "
            "WHERE user_id = ?", [ALICE.id]).fetchone())
        assert tuple(row) == (1.5 + round_, round_ + 1)
