"""Group commit: many small writes of the people tables share one transaction."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

from hybrid_calendar.people.db import Handle, execute, run, write

if TYPE_CHECKING:
    from hybrid_calendar.gateway import Gateway

T = TypeVar("T")


class GroupCommit:
    """Runs many small writes in shared transactions: calls that arrive while one
    transaction is in flight go together into the next (one commit instead of many).
    Each call runs in a savepoint, so one that fails leaves the others' writes in."""

    def __init__(self, gateway: Gateway) -> None:
        self.gateway = gateway
        self._queue: list[tuple[Callable[[Handle], Any], asyncio.Future[Any]]] = []
        self._flusher: asyncio.Task[None] | None = None

    async def run(self, fn: Callable[[Handle], T]) -> T:
        """Run ``fn(handle)`` inside a shared transaction; its result."""
        done: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        self._queue.append((fn, done))
        if self._flusher is None or self._flusher.done():
            self._flusher = asyncio.create_task(self._flush(), name="people-group-commit")
        return await done

    async def _flush(self) -> None:
        while self._queue:
            batch, self._queue = self._queue, []

            def work(handle: Handle, batch: Any = batch) -> list[Any]:
                results: list[Any] = []
                with write(handle):
                    for fn, _done in batch:
                        execute(handle, "SAVEPOINT one")
                        try:
                            results.append((True, fn(handle)))
                        except Exception as err:  # only this call fails
                            execute(handle, "ROLLBACK TO SAVEPOINT one")
                            results.append((False, err))
                        execute(handle, "RELEASE SAVEPOINT one")
                return results
            try:
                outcomes = await run(self.gateway, work)
            except Exception as err:
                outcomes = [(False, err)] * len(batch)
            for (_fn, done), (ok, value) in zip(batch, outcomes, strict=True):
                if done.done():
                    continue
                if ok:
                    done.set_result(value)
                else:
                    done.set_exception(value)
