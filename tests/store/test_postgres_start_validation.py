"""PostgreSQL's ``start_validation`` is one statement that never marks a user made inactive
by a transaction it had to wait for (the read and the write cannot fall apart)."""

from __future__ import annotations

import asyncio
from dataclasses import replace

import psycopg
import pytest

from hybrid_calendar.models import UserState
from hybrid_calendar.store.postgres.store import PostgresStore
from hybrid_calendar.store.testing.samples import ALICE, seed

pytestmark = pytest.mark.anyio


async def _blocked(conn: psycopg.AsyncConnection[tuple[object, ...]], pid: int) -> bool:
    """Whether a backend other than ``pid`` waits for a lock ``pid`` holds."""
    cursor = await conn.execute(
        "SELECT count(*) FROM pg_stat_activity WHERE %s = ANY(pg_blocking_pids(pid))", (pid,))
    found = await cursor.fetchone()
    return bool(found and found[0])


async def test_a_user_deactivated_while_the_statement_waits_is_not_marked(
        pg_store: PostgresStore, postgres_url: str) -> None:
    await seed(pg_store, replace(ALICE, state=UserState.PENDING))
    async with await psycopg.AsyncConnection.connect(postgres_url) as admin, \
            await psycopg.AsyncConnection.connect(postgres_url, autocommit=True) as watcher:
        await admin.execute("UPDATE users SET state = 'inactive', reason = 'deactivated' "
                            "WHERE id = %s", (ALICE.id,))  # the row stays locked
        started = asyncio.create_task(pg_store.start_validation(ALICE.id))
        for _check in range(500):  # until the statement waits for the row's lock
            if await _blocked(watcher, admin.info.backend_pid):
                break
            await asyncio.sleep(0.01)
        else:
            pytest.fail("start_validation never waited for the locked row")
        assert not started.done()
        await admin.commit()
        assert await started is None
    stored = await pg_store.get_user(ALICE.id)
    assert stored is not None and (stored.state, stored.reason) == (UserState.INACTIVE,
                                                                    "deactivated")


async def test_a_pending_user_is_marked_once_a_waited_for_transaction_leaves_it_be(
        pg_store: PostgresStore, postgres_url: str) -> None:
    """The same wait, the other transaction changing something else of the user: the
    context comes back as the committed row was, and the user is marked."""
    await seed(pg_store, replace(ALICE, state=UserState.PENDING))
    async with await psycopg.AsyncConnection.connect(postgres_url) as admin, \
            await psycopg.AsyncConnection.connect(postgres_url, autocommit=True) as watcher:
        await admin.execute("UPDATE users SET locale = 'de' WHERE id = %s", (ALICE.id,))
        started = asyncio.create_task(pg_store.start_validation(ALICE.id))
        for _check in range(500):
            if await _blocked(watcher, admin.info.backend_pid):
                break
            await asyncio.sleep(0.01)
        else:
            pytest.fail("start_validation never waited for the locked row")
        await admin.commit()
        context = await started
    assert context is not None
    assert (context.user.state, context.user.locale) == (UserState.PENDING, "de")
    stored = await pg_store.get_user(ALICE.id)
    assert stored is not None and stored.state == UserState.VALIDATING
