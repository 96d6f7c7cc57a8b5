"""The SQLite store's worker thread: operations queued meanwhile share one commit, each
rolled back alone when it fails; ``call`` always runs alone; nothing is reported before
its commit."""

from __future__ import annotations

import asyncio
import functools
import sqlite3
import threading
from pathlib import Path

import anyio
import pytest

from hybrid_calendar.models import Organisation
from hybrid_calendar.store.sqlite import SqliteStore
from hybrid_calendar.store.sqlite_base import transaction
from hybrid_calendar.store.sqlite_worker import MAX_GROUP

pytestmark = pytest.mark.anyio


class Gate:
    """An operation that holds the worker thread until released: everything submitted
    meanwhile queues up behind it (and forms one group)."""

    def __init__(self) -> None:
        self.entered = threading.Event()
        self.release = threading.Event()

    def __call__(self) -> None:
        self.entered.set()
        assert self.release.wait(10)


async def hold(store: SqliteStore) -> tuple[Gate, asyncio.Task[None]]:
    gate = Gate()
    task = asyncio.create_task(store._run(gate))
    await asyncio.to_thread(gate.entered.wait, 10)
    return gate, task


def insert(store: SqliteStore, org_id: str) -> int:
    return store.execute("INSERT INTO organisations (id, name, domain, provider, settings, "
                         "created_at) VALUES (?, 'n', 'example.com', 'google', '{}', 0)",
                         (org_id,)).rowcount


def stored_orgs(path: Path) -> set[str]:
    with sqlite3.connect(path) as conn:  # a second connection sees committed rows only
        return {row[0] for row in conn.execute("SELECT id FROM organisations")}


async def test_queued_operations_share_one_commit_and_fail_alone(store: SqliteStore,
                                                                 tmp_path: Path) -> None:
    gate, first = await hold(store)
    groups = store._worker.groups

    def failing() -> None:
        insert(store, "doomed")  # written, then undone with its savepoint
        raise ValueError("this operation fails")

    def nested() -> None:
        with transaction(store._conn_or_fail()):
            insert(store, "inner")
            raise KeyError("inner transaction fails")

    calls = [store._run(lambda: insert(store, "a")), store._run(failing),
             store._run(nested), store._run(lambda: insert(store, "b"))]
    tasks = [asyncio.ensure_future(call) for call in calls]
    await asyncio.sleep(0)  # let every task queue its operation behind the gate
    gate.release.set()
    await first
    results = await asyncio.gather(*tasks, return_exceptions=True)
    assert results[0] == 1 and results[3] == 1
    assert isinstance(results[1], ValueError) and isinstance(results[2], KeyError)
    assert store._worker.groups == groups + 1
    assert stored_orgs(tmp_path / "gw.sqlite3") == {"a", "b"}


async def test_a_result_is_reported_only_after_its_commit(store: SqliteStore,
                                                          tmp_path: Path) -> None:
    gate, first = await hold(store)
    tasks = [asyncio.ensure_future(store.put_organisation(
        Organisation(id=f"o{i}", name="n", domain="example.com"))) for i in range(3)]
    await asyncio.sleep(0)
    gate.release.set()
    await first
    for number, task in enumerate(tasks):
        await task
        assert f"o{number}" in stored_orgs(tmp_path / "gw.sqlite3")


async def test_call_always_runs_alone(store: SqliteStore) -> None:
    gate, first = await hold(store)
    seen: list[bool] = []

    def manages_its_own_transaction(db: object) -> None:
        conn = store._conn_or_fail()
        seen.append(conn.in_transaction)
        with conn:  # commits on its own, as plugin code on the raw handle may
            insert(store, "own")

    tasks = [asyncio.ensure_future(store._run(lambda: insert(store, "x"))),
             asyncio.ensure_future(store.call(manages_its_own_transaction)),
             asyncio.ensure_future(store._run(lambda: insert(store, "y")))]
    await asyncio.sleep(0)
    gate.release.set()
    await first
    await asyncio.gather(*tasks)
    assert seen == [False]
    assert {o.id for o in await store.list_organisations()} == {"x", "own", "y"}


async def test_groups_are_bounded(store: SqliteStore) -> None:
    gate, first = await hold(store)
    groups = store._worker.groups
    tasks = [asyncio.ensure_future(store._run(functools.partial(insert, store, f"o{n}")))
             for n in range(MAX_GROUP + 1)]
    await asyncio.sleep(0)
    gate.release.set()
    await first
    assert sum(await asyncio.gather(*tasks)) == MAX_GROUP + 1
    assert store._worker.groups == groups + 1  # MAX_GROUP together, the last one alone


async def test_a_cancelled_caller_waits_for_its_operation(store: SqliteStore) -> None:
    gate, first = await hold(store)
    results: list[int] = []

    async def impatient() -> None:
        with anyio.move_on_after(0):  # cancelled at once, as by a timeout
            results.append(await store._run(lambda: insert(store, "kept")))

    task = asyncio.ensure_future(impatient())
    for _ in range(5):  # a few turns of the loop: an unshielded caller would be gone
        await asyncio.sleep(0)
    assert not task.done()  # shielded, as anyio.to_thread: the outcome is not lost
    gate.release.set()
    await first
    await task
    assert results == [1]
    assert "kept" in {o.id for o in await store.list_organisations()}


async def test_the_worker_thread_ends_when_the_store_closes(tmp_path: Path) -> None:
    from hybrid_calendar.store.testing import ReversibleCipher

    before = {t.ident for t in threading.enumerate() if t.name == "sqlite-store"}
    store = SqliteStore(tmp_path / "other.sqlite3", ReversibleCipher())
    await store.open()
    await store.list_organisations()
    await store.close()
    for thread in threading.enumerate():
        if thread.name == "sqlite-store" and thread.ident not in before:
            await asyncio.to_thread(thread.join, 10)
            assert not thread.is_alive()
