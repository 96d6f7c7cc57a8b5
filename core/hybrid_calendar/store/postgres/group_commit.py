"""Group commit for the PostgreSQL store: writes queued meanwhile share one transaction.

Every write of the store is a *write function*: ``async fn(conn) -> result`` that only
runs statements on ``conn`` (it never awaits the store, the cipher or anything else, so
it cannot wait for another write). Writes go to a queue served by a few *committer*
tasks, each on a pooled connection:

* A committer takes the oldest queued write. Alone (nothing else queued), it runs as it
  would without this module: a one-statement write in autocommit, any other in its own
  transaction.
* When more writes are queued, they run one after another in **one transaction** (up to
  :data:`MAX_GROUP`), writes queued while the group runs joining it, and share one
  ``COMMIT``: one WAL flush instead of one per write. Every caller hears back only after
  the commit that covers its write, so a result still means "durable".
* A write that raises inside a group rolls the whole group back; then every write of the
  group runs again **alone**, in order, and each caller gets the outcome of its own run.
  One failure never undoes another caller's write, and no savepoint statements are spent
  on the common case where nothing fails. (Write functions are pure statements on the
  connection, so running one again after a rollback is safe.)
* A write that PostgreSQL aborts as a deadlock victim or a serialization failure
  (SQLSTATE ``40P01``/``40001``: the server undid it so that another transaction could
  finish) runs again, up to :data:`CONFLICT_ATTEMPTS` times, after a short random pause.
  Several processes grouping writes on the same rows in different orders (e.g. new
  users' data keys) can lock each other that way; PostgreSQL's documentation asks
  applications to retry such transactions.

Across processes nothing changes: locks (advisory locks, ``FOR UPDATE``, ``SKIP LOCKED``
leases) are held until the group's commit, as they were until each write's own commit;
``NOTIFY`` is sent by the commit; a statement still sees every commit made before it
started, so budget takes stay exact.

Measured on the 2-core build machine: psycopg's async API costs ≈ 130-180 µs of gateway
CPU per statement, and a durable commit waits for a WAL flush; a group saves the flush
waits (docs/performance.md, "PostgreSQL store: where one process's time goes").
"""

from __future__ import annotations

import asyncio
import random
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import anyio
from psycopg import AsyncConnection
from psycopg import errors as pg_errors

T = TypeVar("T")

Conn = AsyncConnection[dict[str, Any]]
WriteFn = Callable[[Conn], Awaitable[T]]

MAX_GROUP = 64
"""Most writes sharing one transaction (bounds how long one commit waits)."""
DRAIN_SECONDS = 10.0
"""How long closing the store waits for queued writes."""
COMMITTERS = 2
"""Committer tasks (each with its own connection): while one waits for its commit's
flush, another runs the next group."""
CONFLICT_ATTEMPTS = 5
"""Most runs of a write that keeps being aborted as a deadlock victim or serialization
failure (then its caller gets the error)."""
CONFLICT_PAUSE_SECONDS = 0.005
"""Upper bound of the random pause before a write aborted that way runs again, doubled
per attempt (the transaction it lost to usually commits within it)."""
_CONFLICTS = (pg_errors.DeadlockDetected, pg_errors.SerializationFailure)


@dataclass(slots=True)
class _Write:
    fn: WriteFn[Any]
    single_statement: bool
    future: asyncio.Future[Any]


class _GroupFailed(Exception):
    """A write of a group raised: roll the group back (then each runs alone)."""


class GroupCommit:
    """The write queue and its committers (see module docs).

    :param connection: an async context manager factory lending a pooled connection in
        autocommit mode (the store's ``connection``).
    :param committers: most committer tasks at once.
    """

    def __init__(self, connection: Callable[[], Any], *, committers: int = COMMITTERS) -> None:
        self._connection = connection
        self._committers = committers
        self._pending: deque[_Write] = deque()
        self._tasks: set[asyncio.Task[None]] = set()
        self.groups = 0
        """Transactions shared by more than one write so far (for tests and metrics)."""
        self.grouped_writes = 0
        """Writes that shared a transaction with others so far."""

    async def run(self, fn: WriteFn[T], *, single_statement: bool = False) -> T:
        """Run the write function ``fn`` (alone or in a group); its result or exception.

        :param single_statement: ``fn`` runs exactly one statement, atomic on its own, so
            alone it needs no ``BEGIN``/``COMMIT``.

        Like the SQLite store's worker, a cancelled caller still waits for its write to
        finish (its effect is then known).
        """
        loop = asyncio.get_running_loop()
        write = _Write(fn, single_statement, loop.create_future())
        self._pending.append(write)
        if len(self._tasks) < self._committers:
            task = loop.create_task(self._serve(), name="postgres-group-commit")
            self._tasks.add(task)
        with anyio.CancelScope(shield=True):
            result: T = await write.future
        return result

    async def drain(self) -> None:
        """Wait until every queued write has run (before the pool closes), at most
        :data:`DRAIN_SECONDS` (then closing the pool fails what still runs)."""
        with anyio.move_on_after(DRAIN_SECONDS):
            while self._tasks:
                await asyncio.gather(*list(self._tasks), return_exceptions=True)

    # ---------------------------------------------------------------- committers
    async def _serve(self) -> None:
        try:
            await self._serve_pending()
        finally:
            # Leave the committers' set in the same step as the queue was seen empty (no
            # await between them): a write queued after that starts a committer of its
            # own. (A done callback would run one loop step later, and a write queued in
            # between would find the set still full and wait for the next write.)
            task = asyncio.current_task()
            if task is not None:
                self._tasks.discard(task)

    async def _serve_pending(self) -> None:
        while self._pending:
            taken = [self._pending.popleft()]
            try:
                async with self._connection() as conn:
                    if not self._pending:
                        _settle(taken[0], await _alone(conn, taken[0]))
                    else:
                        await self._group(conn, taken)
            except Exception as err:  # no connection, or it broke: these writes failed
                for write in taken:
                    _settle(write, (False, err))
            except BaseException:  # cancelled (the loop is closing): nothing more runs
                for write in [*taken, *self._pending]:
                    _settle(write, (False, _closed_error()))
                self._pending.clear()
                raise

    async def _group(self, conn: Conn, done: list[_Write]) -> None:
        """Run ``done[0]`` and the writes queued meanwhile in one transaction; ``done``
        holds the group's writes (for the caller to settle should the connection fail)."""
        results: list[Any] = []
        try:
            async with conn.transaction():
                index = 0
                while True:
                    try:
                        results.append(await done[index].fn(conn))
                    except Exception as err:
                        raise _GroupFailed from err
                    index += 1
                    if not self._pending or index >= MAX_GROUP:
                        break
                    done.append(self._pending.popleft())
        except _GroupFailed:  # rolled back: each write of the group runs again alone
            for write in done:
                _settle(write, await _alone(conn, write))
            return
        except Exception as err:  # BEGIN or COMMIT failed: nothing of the group is kept
            for write in done:
                _settle(write, (False, err))
            return
        if len(done) > 1:
            self.groups += 1
            self.grouped_writes += len(done)
        for write, result in zip(done, results, strict=True):
            _settle(write, (True, result))


async def _alone(conn: Conn, write: _Write) -> tuple[bool, Any]:
    """Run one write as if there were no grouping: its own statement or transaction,
    again (after a short random pause) when PostgreSQL aborted it as a deadlock victim
    or a serialization failure."""
    attempt = 1
    while True:
        try:
            if write.single_statement:
                return True, await write.fn(conn)
            async with conn.transaction():
                return True, await write.fn(conn)
        except _CONFLICTS as err:
            if attempt >= CONFLICT_ATTEMPTS:
                return False, err
            await asyncio.sleep(random.uniform(0, CONFLICT_PAUSE_SECONDS * 2 ** attempt))
            attempt += 1
        except Exception as err:
            return False, err


def _settle(write: _Write, outcome: tuple[bool, Any]) -> None:
    if write.future.done():
        return
    ok, value = outcome
    if ok:
        write.future.set_result(value)
    else:
        write.future.set_exception(value)


def _closed_error() -> Exception:
    from hybrid_calendar.errors import StoreError

    return StoreError("the store's write was interrupted (the store is closing): try again")
