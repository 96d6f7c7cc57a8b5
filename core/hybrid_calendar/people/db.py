"""Running SQL on the store's connection, serialized with every other store operation."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

from starlette.exceptions import HTTPException

from hybrid_calendar.store.sqlite_base import transaction

if TYPE_CHECKING:
    from hybrid_calendar.gateway import Gateway
    from hybrid_calendar.store.base import Sealer

T = TypeVar("T")


async def run(gateway: Gateway, fn: Callable[[sqlite3.Connection], T]) -> T:
    """Run ``fn(connection)`` in the store's worker (the people tables live in its file)."""
    result: T = await gateway.store.call(lambda db: fn(db.conn))
    return result


def rows(conn: sqlite3.Connection, sql: str, params: Any = ()) -> list[dict[str, Any]]:
    """Run a query; rows as dicts of column name to value."""
    cursor = conn.execute(sql, params)
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


async def sealer(gateway: Gateway, org_id: str, user_id: str | None) -> Sealer:
    """The sealer of a user's (or, with None, the organisation's) data key.

    The people tables are sealed with the same cipher as the store's own rows.
    """
    return await gateway.cipher.sealer(org_id, user_id)


def json_object(data: Any) -> dict[str, Any]:
    """Check that a parsed request body is a JSON object (400 otherwise)."""
    if not isinstance(data, dict):
        raise HTTPException(400, "body must be a JSON object")
    return data


class GroupCommit:
    """Runs many small writes in shared transactions: calls that arrive while one
    transaction is in flight go together into the next (one commit instead of many)."""

    def __init__(self, gateway: Gateway) -> None:
        self.gateway = gateway
        self._queue: list[tuple[Callable[[sqlite3.Connection], Any], asyncio.Future[Any]]] = []
        self._flusher: asyncio.Task[None] | None = None

    async def run(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        """Run ``fn(connection)`` inside a shared transaction; its result."""
        done: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        self._queue.append((fn, done))
        if self._flusher is None or self._flusher.done():
            self._flusher = asyncio.create_task(self._flush(), name="people-group-commit")
        return await done

    async def _flush(self) -> None:
        while self._queue:
            batch, self._queue = self._queue, []

            def work(conn: sqlite3.Connection, batch: Any = batch) -> list[Any]:
                results: list[Any] = []
                with transaction(conn):
                    for fn, _done in batch:
                        conn.execute("SAVEPOINT one")
                        try:
                            results.append((True, fn(conn)))
                        except Exception as err:  # only this call fails
                            conn.execute("ROLLBACK TO one")
                            results.append((False, err))
                        conn.execute("RELEASE one")
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
