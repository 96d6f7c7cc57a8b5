"""The PostgreSQL store's one-statement writes give what the statements they replaced gave.

A sync's apply (meetings deleted and upserted, pending Join buttons of deleted meetings
dropped, the cursor saved) is one statement of ``WITH`` parts, and so is a whole sync
write (the apply, the Join buttons, the announcement); here random syncs run through them
for Alice and through the former statements (or the separate store operations) for Bob,
on the same events, and both end with the same rows and counts.
"""

from __future__ import annotations

import random
from typing import Any

import pytest

from hybrid_calendar.models import Meeting, User
from hybrid_calendar.store import codec
from hybrid_calendar.store.base import Store, SyncWrite
from hybrid_calendar.store.postgres.connection import Conn
from hybrid_calendar.store.postgres.store import PostgresStore
from hybrid_calendar.store.postgres.sync_write import upsert_meetings
from hybrid_calendar.store.testing import NOW
from hybrid_calendar.store.testing.samples import (
    ALICE,
    BOB,
    join_button,
    meeting,
    meetings_changed,
    seed,
)

pytestmark = pytest.mark.anyio


@pytest.fixture
async def store(pg_store: PostgresStore) -> PostgresStore:
    await seed(pg_store, ALICE, BOB)
    return pg_store


async def former_apply(store: PostgresStore, user: User, upserts: list[Meeting],
                       deleted_ids: list[str], cursor: str, *, full_sync: bool) -> int:
    """The apply as it was before it became one statement (the reference)."""
    sealer = await store.cipher.sealer(user.org_id, user.id)
    rows = [codec.meeting_to_row(sealer, m) for m in upserts]

    async def work(conn: Conn) -> int:
        if full_sync:
            gone = await conn.execute(
                "DELETE FROM meetings WHERE user_id = %s AND NOT (event_id = ANY(%s)) "
                "RETURNING event_id", (user.id, [row["event_id"] for row in rows]))
        else:
            gone = await conn.execute(
                "DELETE FROM meetings WHERE user_id = %s AND event_id = ANY(%s) "
                "RETURNING event_id", (user.id, deleted_ids))
        gone_ids = [r["event_id"] for r in await gone.fetchall()]
        if full_sync or deleted_ids:
            await conn.execute(
                "DELETE FROM scheduled_notifications WHERE user_id = %s AND "
                "event_id = ANY(%s) AND state = 'pending'",
                (user.id, gone_ids if full_sync else deleted_ids))
        if rows:
            await conn.execute(*upsert_meetings(rows, sealer.current_prefix))
        await conn.execute(
            "INSERT INTO sync_state (user_id, cursor, last_sync_at) VALUES (%s, %s, %s) "
            "ON CONFLICT (user_id) DO UPDATE SET cursor=excluded.cursor, "
            "last_sync_at=excluded.last_sync_at", (user.id, cursor, NOW.timestamp()))
        return len(gone_ids)
    return await store.write(work)


async def snapshot(store: PostgresStore, user: User) -> dict[str, Any]:
    meetings = await store.fetch(
        "SELECT event_id, status, start_at, end_at, etag FROM meetings WHERE user_id = %s "
        "ORDER BY event_id", (user.id,))
    notifications = await store.fetch(
        "SELECT event_id, state, due_at FROM scheduled_notifications WHERE user_id = %s "
        "ORDER BY event_id", (user.id,))
    state = await store.get_sync_state(user.id)
    return {"meetings": meetings, "notifications": notifications, "cursor": state.cursor}


async def test_one_statement_apply_matches_the_former_statements(
        store: PostgresStore) -> None:
    rng = random.Random(16)
    ids = [f"e{i}" for i in range(12)]
    for round_ in range(40):
        full = rng.random() < 0.3
        chosen = rng.sample(ids, rng.randint(0, 8))
        deleted = [] if full else rng.sample(ids, rng.randint(0, 4))  # may overlap
        version = f'"{round_}"'
        results = []
        for user in (ALICE, BOB):
            upserts = [meeting(e, hours=1 + ids.index(e), user=user, etag=version)
                       for e in chosen]
            upserts += upserts[:1]  # an id twice in one page: the last wins
            await store.schedule(user, [join_button(e, user=user) for e in ids])
            if user is ALICE:
                applied = await store.apply_changes(user, upserts, deleted, f"c{round_}",
                                                    full_sync=full, synced_at=NOW)
                results.append(applied.deleted)
            else:
                results.append(await former_apply(store, user, upserts, deleted,
                                                  f"c{round_}", full_sync=full))
        assert results[0] == results[1], round_
        assert await snapshot(store, ALICE) == await snapshot(store, BOB), round_


async def test_saved_counters_of_one_key_twice_keep_the_largest_or_the_last(
        store: PostgresStore) -> None:
    keys = store.key_storage()
    await store.execute(
        "INSERT INTO crypto_keys (key_id, org_id, user_id, purpose, generation, kms, "
        "key_ref, blob, created_at, retired_at, uses, uses_reserved) VALUES "
        "('k1', 'o1', 'u1', 'data', 1, 'local', 'r1', '\\x00', 0, NULL, 5, 10)")
    await keys.save_counters([("k1", 9, 3), ("k1", 7, 12), ("k2", 1, 1)])
    rows = await store.fetch("SELECT uses, uses_reserved FROM crypto_keys")
    assert rows == [{"uses": 9, "uses_reserved": 12}]  # only growing, per column
    await keys.save_counters([("k1", 2, 2), ("k1", 4, 3)], exact=True)
    rows = await store.fetch("SELECT uses, uses_reserved FROM crypto_keys")
    assert rows == [{"uses": 4, "uses_reserved": 3}]  # exact: the last wins


async def outbox_snapshot(store: PostgresStore, user: User) -> list[tuple[Any, ...]]:
    """The user's notifications, keys without the user's id (so users compare)."""
    return sorted((n.key.replace(user.id, "<user>"), n.event_id, n.kind, n.state, n.due_at,
                   n.end, dict(n.payload)) for n in await store.list_notifications(user))


async def test_one_statement_sync_write_matches_the_separate_operations(
        store: PostgresStore) -> None:
    """``write_sync`` as one statement (apply, Join buttons, announcement) against the
    base class's reference: ``apply_changes``, ``schedule`` and ``enqueue_notification``
    one after another, over random full and incremental syncs."""
    rng = random.Random(1616)
    ids = [f"e{i}" for i in range(10)]
    one_statement = 0
    for round_ in range(60):
        full = rng.random() < 0.3
        chosen = rng.sample(ids, rng.randint(0, 6))
        deleted = [] if full else rng.sample(ids, rng.randint(0, 3))  # may overlap
        announce = rng.random() < 0.8
        earlier = rng.sample(ids, 3) if rng.random() < 0.3 else []
        results = []
        for user in (ALICE, BOB):
            if earlier:  # buttons of earlier syncs, some not replaced now
                await store.schedule(user, [join_button(e, user=user, key=f"{user.id}|{e}|old")
                                            for e in earlier])
            upserts = [meeting(e, hours=1 + ids.index(e), user=user, etag=f'"{round_}"')
                       for e in chosen]
            write = SyncWrite(
                user, upserts, deleted, f"c{round_}", full_sync=full, synced_at=NOW,
                buttons=[join_button(m.event_id, user=user, ends=m.end,
                                     payload={"round": round_}) for m in upserts],
                announcement=meetings_changed(f"{user.id}|m{round_ % 7}", user=user)
                if announce else None)
            if user is ALICE:
                written = await store.write_sync(write)
            else:
                written = await Store.write_sync(store, write)  # the reference
            results.append((written.applied, written.announced))
        one_statement += not (set(chosen) & set(deleted)) or full
        assert results[0] == results[1], round_
        assert await snapshot(store, ALICE) == await snapshot(store, BOB), round_
        assert await outbox_snapshot(store, ALICE) == await outbox_snapshot(store, BOB), round_
    assert 20 < one_statement < 60  # both paths ran, mostly the one statement
