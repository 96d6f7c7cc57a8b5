"""SQL on the store's native handle, for the administration tables.

``Store.call`` hands SQLite stores' functions a ``sqlite_utils.Database`` and PostgreSQL
stores' a ``psycopg`` connection (already in a transaction committed when the function
returns). The administration package writes its SQL once, with ``?`` placeholders and
statements both databases accept (``ON CONFLICT ... DO UPDATE/NOTHING``, ``coalesce``);
:func:`execute` adapts the placeholders and :func:`transaction` opens SQLite's transaction.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from typing import Any

from sqlite_utils import Database


def execute(handle: Any, sql: str, params: Sequence[Any] = ()) -> Any:
    """Run one statement; returns the driver's cursor (``fetchone``, ``fetchall``,
    ``rowcount`` and ``description`` work on both)."""
    if isinstance(handle, Database):
        return handle.execute(sql, list(params))
    return handle.execute(sql.replace("?", "%s"), list(params))


@contextlib.contextmanager
def transaction(handle: Any) -> Iterator[None]:
    """A write transaction: SQLite's connection context, or nothing more for PostgreSQL
    (``Store.call`` runs the function in one transaction)."""
    if isinstance(handle, Database):
        with handle.conn:
            yield
    else:
        yield
