"""SQL of the people tables, written once for both stores.

:meth:`Store.call` hands a function the store's native handle: a
``sqlite_utils.Database`` on SQLite, a
:class:`~hybrid_calendar.store.postgres.portable.PortableHandle` on PostgreSQL. Both accept
the portable subset (``?`` placeholders, ``ON CONFLICT … DO NOTHING/UPDATE``,
``RETURNING``); the helpers here add what differs: a write transaction (:func:`write`),
many rows at once (:func:`execute_many`), and on PostgreSQL the lock that keeps the stream
outbox's ``seq`` in commit order and the ``NOTIFY`` that tells other processes
(:func:`serialize_outbox`, :func:`announce`).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

from sqlite_utils import Database
from starlette.exceptions import HTTPException

from hybrid_calendar.store.sqlite_base import transaction

if TYPE_CHECKING:
    from hybrid_calendar.gateway import Gateway
    from hybrid_calendar.store.base import Sealer

T = TypeVar("T")
Handle = Any
"""``sqlite_utils.Database`` or ``PortableHandle`` (the store's native handle)."""

OUTBOX_CHANNEL = "hybrid_calendar_people"
"""PostgreSQL ``LISTEN``/``NOTIFY`` channel: a user's new stream events (payload: user id)."""
_OUTBOX_LOCK = 0x68637070  # "hcpp": one advisory lock for stream-outbox writers


async def run(gateway: Gateway, fn: Callable[[Handle], T]) -> T:
    """Run ``fn(handle)`` through the store (the people tables live in its database)."""
    result: T = await gateway.store.call(fn)
    return result


def is_sqlite(handle: Handle) -> bool:
    """True on the SQLite store (one process, one serialized writer)."""
    return isinstance(handle, Database)


def execute(handle: Handle, sql: str, params: Sequence[Any] = ()) -> Any:
    """Run one statement of the portable subset; the driver's cursor."""
    return handle.execute(sql, list(params))


def execute_many(handle: Handle, sql: str, params: Iterable[Sequence[Any]]) -> None:
    """Run one statement of the portable subset for each parameter row."""
    batch = [list(p) for p in params]
    if not batch:
        return
    if is_sqlite(handle):
        handle.conn.executemany(sql, batch)
    else:
        handle.executemany(sql, batch)


def rows(handle: Handle, sql: str, params: Sequence[Any] = ()) -> list[dict[str, Any]]:
    """Run a query; rows as dicts of column name to value."""
    cursor = execute(handle, sql, params)
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


@contextlib.contextmanager
def write(handle: Handle) -> Iterator[None]:
    """One write transaction: committed on success, rolled back on error."""
    if is_sqlite(handle):
        with transaction(handle.conn):
            yield
    else:
        with handle.conn:
            yield


def serialize_outbox(handle: Handle) -> None:
    """Inside a write transaction that adds stream events: on PostgreSQL, wait for the
    other processes' such transactions, so ``seq`` order is commit order and a reader of
    ``seq > n`` never misses a row committed later with a lower number. (SQLite's
    ``BEGIN IMMEDIATE`` already serializes writers.)"""
    if not is_sqlite(handle):
        execute(handle, "SELECT pg_advisory_xact_lock(?)", (_OUTBOX_LOCK,))


def announce(handle: Handle, user_ids: Iterable[str]) -> None:
    """Inside the transaction that added events: on PostgreSQL, tell every process's
    listener which users have new events (sent at commit)."""
    if not is_sqlite(handle):
        for user_id in sorted(set(user_ids)):
            execute(handle, "SELECT pg_notify(?, ?)", (OUTBOX_CHANNEL, user_id))


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
