"""Group commit of the PostgreSQL store: writes queued meanwhile share one transaction,
a failing write undoes nobody else's, and nobody hears back before the commit."""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Awaitable, Callable
from datetime import timedelta

import psycopg
import pytest
from psycopg import errors as pg_errors

from hybrid_calendar.store.postgres.connection import Conn
from hybrid_calendar.store.postgres.group_commit import GroupCommit
from hybrid_calendar.store.postgres.store import PostgresStore
from hybrid_calendar.store.testing import NOW
from hybrid_calendar.store.testing.samples import ALICE, BOB, join_button, seed

pytestmark = pytest.mark.anyio


@pytest.fixture
def store(pg_store: PostgresStore) -> PostgresStore:
    return pg_store


async def _txid(conn: Conn) -> int:
    cursor = await conn.execute("SELECT txid_current() AS txid")
    row = await cursor.fetchone()
    assert row is not None
    return int(row["txid"])


async def test_writes_queued_together_share_one_transaction(store: PostgresStore) -> None:
    txids = await asyncio.gather(*(store.write(_txid) for _ in range(20)))
    assert len(set(txids)) < len(txids)  # at least one transaction served several writes
    assert store.group_commit.groups >= 1


async def test_a_failing_write_undoes_no_other_write(store: PostgresStore) -> None:
    async def insert(conn: Conn, key: str) -> str:
        await conn.execute("INSERT INTO jobs (kind, key, lane, payload, state, run_at, "
                           "attempts, created_at) VALUES ('sync', %s, %s, '{}', 'queued', "
                           "0, 0, 0)", (key, key))
        return key

    async def broken(conn: Conn) -> str:
        await conn.execute("INSERT INTO jobs (kind, key, lane, payload, state, run_at, "
                           "attempts, created_at) VALUES ('sync', 'half', 'half', '{}', "
                           "'queued', 0, 0, 0)")
        await conn.execute("SELECT no_such_column FROM jobs")
        return "never"

    writes = [store.write(functools.partial(insert, key=f"k{i}")) for i in range(10)]
    writes.insert(5, store.write(broken))
    outcomes = await asyncio.gather(*writes, return_exceptions=True)
    assert isinstance(outcomes[5], pg_errors.UndefinedColumn)
    assert [o for i, o in enumerate(outcomes) if i != 5] == [f"k{i}" for i in range(10)]
    rows = await store.fetch("SELECT key FROM jobs ORDER BY key")
    assert [r["key"] for r in rows] == sorted(f"k{i}" for i in range(10))  # not 'half'
    assert store.group_commit.groups >= 1


async def test_a_write_is_committed_when_its_caller_hears_back(
        store: PostgresStore, postgres_url: str) -> None:
    await seed(store, ALICE, BOB)

    async def enqueue_and_look(index: int) -> bool:
        await store.enqueue("sync", f"sync:{index}", {}, NOW, lane=f"lane:{index}")
        with psycopg.connect(postgres_url) as other:  # another process's view
            row = other.execute("SELECT count(*) FROM jobs WHERE key = %s",
                                (f"sync:{index}",)).fetchone()
        return row is not None and row[0] == 1

    seen = await asyncio.gather(*(enqueue_and_look(i) for i in range(12)),
                                store.schedule(ALICE, [join_button(f"e{i}") for i in range(5)]))
    assert all(seen[:12])


async def test_a_batch_with_one_key_twice_upserts_like_rows_one_by_one(
        store: PostgresStore) -> None:
    await seed(store, ALICE, BOB)
    first = join_button("e1")
    second = join_button("e1", due=NOW + timedelta(minutes=3), payload={"changed": True})
    await store.schedule(ALICE, [first, second])
    [stored] = await store.list_notifications(ALICE)
    assert stored.due_at == second.due_at and dict(stored.payload) == {"changed": True}
    rows = await store.fetch("SELECT next_attempt_at FROM scheduled_notifications")
    assert rows == [{"next_attempt_at": first.due_at.timestamp()}]  # a conflict keeps it


async def test_a_write_queued_as_the_last_committer_finishes_still_runs(
        store: PostgresStore) -> None:
    # A write queued in the loop step where the only committer has just seen the queue
    # empty and ended must start a committer of its own; were the committer still counted
    # (as when it left the set by a done callback, one step later), the write would wait
    # for somebody else's write (in a gateway: minutes, the admin API's request hanging).
    # The next write is queued 0, 1, 2 ... loop steps after the previous one was answered,
    # so one of them lands in that step.
    commit = GroupCommit(store.connection, committers=1)

    async def chain() -> None:  # each write awaited in this task (no task per write)
        for steps in range(40):
            assert await commit.run(_txid) > 0
            for _ in range(steps):
                await asyncio.sleep(0)
    writer = asyncio.ensure_future(chain())
    done, _ = await asyncio.wait({writer}, timeout=10)
    assert writer in done, "a write was left waiting with no committer to run it"
    writer.result()


async def test_a_write_aborted_as_a_deadlock_victim_runs_again(
        two_processes: list[PostgresStore], postgres_url: str) -> None:
    """Two processes' writes lock the same two rows in opposite orders: PostgreSQL aborts
    one of them as the deadlock's victim; that write runs again and both are kept."""
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        conn.execute("CREATE TABLE deadlock_probe (id INTEGER PRIMARY KEY, n INTEGER)")
        conn.execute("INSERT INTO deadlock_probe VALUES (1, 0), (2, 0)")
    holding = {1: asyncio.Event(), 2: asyncio.Event()}
    runs = {1: 0, 2: 0}

    def crossing(first: int, second: int) -> Callable[[Conn], Awaitable[int]]:
        async def write(conn: Conn) -> int:
            runs[first] += 1
            await conn.execute("UPDATE deadlock_probe SET n = n + 1 WHERE id = %s", (first,))
            holding[first].set()
            await holding[second].wait()  # each holds one row, then wants the other's
            await conn.execute("UPDATE deadlock_probe SET n = n + 1 WHERE id = %s",
                               (second,))
            return first
        return write

    one, other = two_processes
    outcomes = await asyncio.gather(one.write(crossing(1, 2)), other.write(crossing(2, 1)),
                                    return_exceptions=True)
    assert list(outcomes) == [1, 2]  # gather answers a list (typeshed: a tuple)
    assert sorted(runs.values()) == [1, 2]  # the victim ran twice, the other once
    rows = await one.fetch("SELECT id, n FROM deadlock_probe ORDER BY id")
    assert [(r["id"], r["n"]) for r in rows] == [(1, 2), (2, 2)]
