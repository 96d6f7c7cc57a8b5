"""SQL on the store's handle, for the administration tables.

``Store.call`` hands SQLite stores' functions a ``sqlite_utils.Database`` and PostgreSQL
stores' a :class:`~hybrid_calendar.store.postgres.portable.PortableHandle`, which accepts
the same ``?`` placeholders and ``with handle.conn:`` transactions. The administration
package writes its SQL once, in that portable subset (``ON CONFLICT ... DO UPDATE/NOTHING``,
``coalesce``); these two helpers are the only way it touches a handle.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from typing import Any


def execute(handle: Any, sql: str, params: Sequence[Any] = ()) -> Any:
    """Run one statement; returns the driver's cursor (``fetchone``, ``fetchall``,
    ``rowcount`` and ``description`` work on both)."""
    return handle.execute(sql, list(params))


@contextlib.contextmanager
def transaction(handle: Any) -> Iterator[None]:
    """One write transaction, committed on success and rolled back on error."""
    with handle.conn:
        yield
