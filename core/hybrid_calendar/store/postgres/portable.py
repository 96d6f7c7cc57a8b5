"""The handle :meth:`Store.call` passes on PostgreSQL: the portable subset of SQLite's.

Components that keep tables of their own in the store's database (admin credentials,
audit, user health, …) write their SQL once, for both backends, against this subset of
``sqlite_utils.Database``:

* ``handle.execute(sql, params)``: ``?`` placeholders (SQL already written with psycopg's
  ``%s`` runs unchanged); returns a cursor with
  ``fetchone``, ``fetchall``, ``rowcount``, ``description`` and iteration (rows are
  tuples). ``INSERT OR IGNORE INTO`` becomes ``INSERT INTO … ON CONFLICT DO NOTHING``;
  ``ON CONFLICT (…) DO UPDATE`` with ``excluded.`` and standard functions work as is.
* ``handle.executemany(sql, rows)``: the same for many parameter rows (one round trip
  per batch in psycopg's pipeline mode).
* ``with handle.conn:`` — one transaction, committed on success, rolled back on error.

Everything else (``handle.table(...)``, ``INSERT OR REPLACE``, SQLite functions) is not
portable: such code belongs in a store method of each backend.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from types import TracebackType
from typing import Any

import psycopg

from hybrid_calendar.errors import StoreError

_INSERT_OR_IGNORE = re.compile(r"^\s*INSERT\s+OR\s+IGNORE\s+INTO\b", re.IGNORECASE)
_NOT_PORTABLE = re.compile(r"\bINSERT\s+OR\s+(REPLACE|ABORT|FAIL|ROLLBACK)\b", re.IGNORECASE)


def to_postgres(sql: str) -> str:
    """Translate the portable subset's SQL to PostgreSQL (placeholders, ``OR IGNORE``).

    :raises ValueError: the statement uses a SQLite-only form.
    """
    if _NOT_PORTABLE.search(sql):
        raise ValueError("INSERT OR REPLACE/ABORT/FAIL/ROLLBACK is SQLite-only: use "
                         "INSERT … ON CONFLICT … DO UPDATE")
    text = sql.replace("%", "%%")
    ignore = bool(_INSERT_OR_IGNORE.match(text))
    if ignore:
        text = _INSERT_OR_IGNORE.sub("INSERT INTO", text, count=1)
    text = _placeholders(text)
    if ignore:
        text = text.rstrip().rstrip(";") + " ON CONFLICT DO NOTHING"
    return text


def _placeholders(sql: str) -> str:
    """``?`` outside string literals becomes ``%s``."""
    out: list[str] = []
    quoted = False
    for char in sql:
        if char == "'":
            quoted = not quoted
        out.append("%s" if char == "?" and not quoted else char)
    return "".join(out)


class _Transaction:
    """``with handle.conn:`` — commit on success, roll back on error."""

    def __init__(self, conn: psycopg.Connection[Any]) -> None:
        self._conn = conn

    def __enter__(self) -> _Transaction:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        if kind is None:
            self._conn.commit()
        else:
            self._conn.rollback()

    def __getattr__(self, name: str) -> Any:
        """Code written against a ``sqlite3.Connection`` fails here with the reason."""
        raise StoreError(f"{name!r} of a sqlite3 connection is not available on the "
                         "PostgreSQL store: this component's SQL is SQLite-only (use "
                         "handle.execute, or a store method of each backend)")


class PortableHandle:
    """Wraps one pooled synchronous connection for the duration of a ``call``.

    :param conn: a psycopg connection outside autocommit (a transaction opens at the first
        statement and ends at ``with handle.conn`` exit or when ``call`` returns), or in
        autocommit for ``call_grouped`` (each statement commits by itself).
    """

    def __init__(self, conn: psycopg.Connection[Any]) -> None:
        self.connection = conn
        """The native psycopg connection (PostgreSQL-only code may use it)."""
        self.conn = _Transaction(conn)

    def execute(self, sql: str, params: Sequence[Any] = ()) -> psycopg.Cursor[Any]:
        """Run one statement of the portable subset (see the module docstring); SQL
        already in psycopg's style (``%s`` placeholders, no ``?``) runs as it is."""
        native = "%s" in sql and "?" not in sql
        return self.connection.execute(sql if native else to_postgres(sql), list(params))

    def executemany(self, sql: str, params: Sequence[Sequence[Any]]) -> psycopg.Cursor[Any]:
        """Run one statement of the portable subset for every row of ``params``."""
        native = "%s" in sql and "?" not in sql
        cursor = self.connection.cursor()
        cursor.executemany(sql if native else to_postgres(sql), [list(p) for p in params])
        return cursor
