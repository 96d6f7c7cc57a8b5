"""The SQLite store's worker thread: one operation at a time, queued writes share a commit.

Every store operation runs in this one thread, in the order it was submitted, so the
connection is never used by two threads at once. What it adds over a thread pool of one:

* **Group commit.** Operations that queue up while the thread is busy run together in one
  ``BEGIN IMMEDIATE … COMMIT``, each inside its own savepoint: an operation that raises
  is rolled back alone (the others keep their work) and its caller gets its exception.
  No caller hears back before the commit that covers its operation, so a result still
  means "durable" (with ``synchronous=FULL``, after the one ``fsync`` the group shares).
  A group of one runs exactly as the operation alone would.
* **Fewer thread hops.** Results go back to each event loop in one callback per group.

Operations submitted with ``grouped=False`` (``Store.call``, whose functions may manage
the transaction themselves, plus opening and closing) always run alone. The thread starts
on demand and ends when idle for :data:`IDLE_SECONDS` or once the connection is closed.

Measured on the 2-core build machine: an operation through ``anyio.to_thread`` cost
≈ 95 µs of CPU for the hop and ≈ 210 µs for a ``synchronous=FULL`` commit
(docs/performance.md, "Gateway CPU per event").
"""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import anyio

T = TypeVar("T")

IDLE_SECONDS = 10.0
"""An idle worker thread ends after this long (a new operation starts another)."""
MAX_GROUP = 64
"""Most operations sharing one transaction (bounds how long one commit waits)."""


@dataclass(slots=True)
class _Operation:
    fn: Callable[[], Any]
    grouped: bool
    loop: asyncio.AbstractEventLoop
    future: asyncio.Future[Any]


Outcome = tuple[bool, Any]
"""``(True, result)`` or ``(False, exception)``."""


class GroupCommitWorker:
    """Runs functions on one SQLite connection in a dedicated thread (see module docs).

    :param connection: returns the open connection, or ``None`` once it is closed (grouped
        operations then run alone and report the store's own "not open" error).
    """

    def __init__(self, connection: Callable[[], sqlite3.Connection | None]) -> None:
        self._connection = connection
        self._pending: deque[_Operation] = deque()
        self._lock = threading.Lock()
        self._wake = threading.Condition(self._lock)
        self._running = False
        self.groups = 0
        """Transactions shared by more than one operation so far (for tests and metrics)."""

    async def run(self, fn: Callable[[], T], *, grouped: bool = True) -> T:
        """Run ``fn()`` in the worker thread; its result, or its exception.

        Like ``anyio.to_thread.run_sync``, a cancelled caller still waits for its
        operation to finish (the operation's effect is then known).
        """
        loop = asyncio.get_running_loop()
        operation = _Operation(fn, grouped, loop, loop.create_future())
        with self._lock:
            self._pending.append(operation)
            if self._running:
                self._wake.notify()
            else:
                self._running = True
                threading.Thread(target=self._serve, name="sqlite-store", daemon=True).start()
        with anyio.CancelScope(shield=True):
            result: T = await operation.future
        return result

    # ---------------------------------------------------------------- worker thread
    def _serve(self) -> None:
        while True:
            with self._lock:
                while not self._pending:
                    closed = self._connection() is None
                    if (closed or not self._wake.wait(IDLE_SECONDS)) and not self._pending:
                        self._running = False  # closed, or idle for long: end the thread
                        return
                batch = [self._pending.popleft()]
                while (batch[0].grouped and self._pending and self._pending[0].grouped
                       and len(batch) < MAX_GROUP):
                    batch.append(self._pending.popleft())
            _deliver(batch, self._execute(batch))

    def _execute(self, batch: list[_Operation]) -> list[Outcome]:
        conn = self._connection() if len(batch) > 1 else None
        if conn is None or conn.in_transaction:
            return [_outcome(operation.fn) for operation in batch]
        try:
            conn.execute("BEGIN IMMEDIATE")
        except sqlite3.Error:
            return [_outcome(operation.fn) for operation in batch]
        self.groups += 1
        outcomes: list[Outcome] = []
        for operation in batch:
            if not conn.in_transaction:  # an operation ended the shared transaction
                outcomes = [_lost(value) for value in outcomes]
                conn.execute("BEGIN IMMEDIATE")
            conn.execute("SAVEPOINT grouped_operation")
            outcome = _outcome(operation.fn)
            if conn.in_transaction:
                if not outcome[0]:
                    conn.execute("ROLLBACK TO grouped_operation")
                conn.execute("RELEASE grouped_operation")
            outcomes.append(outcome)
        if not conn.in_transaction:
            return [_lost(value) for value in outcomes]
        try:
            conn.execute("COMMIT")
        except sqlite3.Error as err:
            with contextlib.suppress(sqlite3.Error):
                conn.execute("ROLLBACK")
            return [(False, err)] * len(batch)
        return outcomes


def _outcome(fn: Callable[[], Any]) -> Outcome:
    try:
        return True, fn()
    except BaseException as err:  # handed to the caller, as anyio's worker threads do
        return False, err


def _lost(outcome: Outcome) -> Outcome:
    """An earlier operation's outcome after the shared transaction ended under it."""
    from hybrid_calendar.errors import StoreError

    if not outcome[0]:
        return outcome
    return False, StoreError("a store operation ended the shared transaction early; "
                             "this write may not have been kept: try again")


def _deliver(batch: list[_Operation], outcomes: list[Outcome]) -> None:
    """Settle the callers' futures: one callback per event loop."""
    by_loop: dict[asyncio.AbstractEventLoop, list[tuple[asyncio.Future[Any], Outcome]]] = {}
    for operation, outcome in zip(batch, outcomes, strict=True):
        by_loop.setdefault(operation.loop, []).append((operation.future, outcome))
    for loop, settled in by_loop.items():
        with contextlib.suppress(RuntimeError):  # that loop is closed: nobody waits
            loop.call_soon_threadsafe(_settle, settled)


def _settle(settled: list[tuple[asyncio.Future[Any], Outcome]]) -> None:
    for future, (ok, value) in settled:
        if future.done():
            continue
        if ok:
            future.set_result(value)
        else:
            future.set_exception(value)
