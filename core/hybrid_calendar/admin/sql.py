"""SQL on the store's native handle, for the administration tables.

``Store.call`` hands SQLite stores' functions a ``sqlite_utils.Database`` and PostgreSQL
stores' a :class:`~hybrid_calendar.store.postgres.portable.PortableHandle`, which accepts
the same portable subset (``?`` placeholders, ``ON CONFLICT ... DO UPDATE/NOTHING``,
``coalesce``, ``with handle.conn:`` for a transaction) and translates it. The
administration package writes its SQL once against that subset through these two helpers.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from typing import Any


def execute(handle: Any, sql: str, params: Sequence[Any] = ()) -> Any:
    """Run one statement of the portable subset; returns the driver's cursor
    (``fetchone``, ``fetchall``, ``rowcount`` and ``description`` work on both)."""
    return handle.execute(sql, list(params))


@contextlib.contextmanager
def transaction(handle: Any) -> Iterator[None]:
    """One write transaction, committed on success and rolled back on error."""
    with handle.conn:
        yield
