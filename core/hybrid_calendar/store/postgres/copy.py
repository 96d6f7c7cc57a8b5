"""Moving a SQLite deployment to PostgreSQL: ``hybrid-calendar store migrate --to URL``.

Both databases have the same schema history (:mod:`.migrations`), so the move is a copy
of every table, row for row, in one PostgreSQL transaction. Ciphertexts are copied as
they are: they are bound to their table, row and column, not to the database, and the
wrapped data keys (``crypto_keys``) move with them, so nothing is decrypted on the way
and the KMS is not needed. The SQLite file is migrated to the newest schema first, and
held under the data directory's lock, so no gateway writes to it meanwhile. The target
must be empty (a fresh database, or one created by a gateway that never stored data).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg

from hybrid_calendar.errors import StoreError
from hybrid_calendar.store.postgres.connection import redact_url
from hybrid_calendar.store.postgres.store import PostgresStore
from hybrid_calendar.store.sqlite import SqliteStore

BATCH = 1000
"""Rows sent per ``executemany``."""

_SKIP = ("_sqlite_migrations", "_pg_migrations")


class NoCipher:
    """The stores of a copy never encrypt or decrypt: rows move as they are stored."""

    async def sealer(self, org_id: str, user_id: str | None) -> Any:
        """Never called by a copy."""
        raise StoreError("a database copy does not decrypt")

    async def blind_index(self, org_id: str, value: str) -> str:
        """Never called by a copy."""
        raise StoreError("a database copy does not compute blind indexes")

    async def settle_first_key(self, key: Any, *, stored: bool) -> None:
        """Never called by a copy (it validates no user)."""
        raise StoreError("a database copy does not store new keys")


@dataclass
class CopyReport:
    """Rows copied per table."""

    tables: dict[str, int] = field(default_factory=dict)

    @property
    def rows(self) -> int:
        """Rows copied in all."""
        return sum(self.tables.values())


async def copy_sqlite_to_postgres(sqlite_path: str | Path, url: str) -> CopyReport:
    """Copy every table of the SQLite database at ``sqlite_path`` into ``url``.

    :raises StoreError: the target is not empty, or a table or column has no twin.
    """
    source = SqliteStore(sqlite_path, NoCipher())
    target = PostgresStore(url, NoCipher(), pool_size=2)
    await source.open()  # applies pending SQLite migrations: both at the newest schema
    try:
        await target.open()
        try:
            tables = await source.call(_sqlite_tables)
            return await _copy(source, target, tables, url)
        finally:
            await target.close()
    finally:
        await source.close()


def _sqlite_tables(db: Any) -> dict[str, tuple[list[str], list[tuple[Any, ...]]]]:
    """Every table's columns and rows (the database of a gateway fits in memory)."""
    found: dict[str, tuple[list[str], list[tuple[Any, ...]]]] = {}
    for name in db.table_names():
        if name in _SKIP or name.startswith("sqlite_"):
            continue
        cursor = db.execute(f"SELECT * FROM [{name}]")
        found[name] = ([d[0] for d in cursor.description], cursor.fetchall())
    return found


async def _copy(source: SqliteStore, target: PostgresStore,
                tables: dict[str, tuple[list[str], list[tuple[Any, ...]]]],
                url: str) -> CopyReport:
    report = CopyReport()
    async with target.transaction() as conn:
        target_tables = await _target_columns(conn)
        missing = sorted(set(tables) - set(target_tables))
        if missing:
            raise StoreError(f"{redact_url(url)} has no table {', '.join(missing)}: "
                             "its schema is older than the SQLite database's")
        for name in _parents_first(list(tables), await _foreign_keys(conn)):
            cursor = await conn.execute(f"SELECT EXISTS (SELECT 1 FROM {name})")
            row = await cursor.fetchone()
            if row is not None and next(iter(row.values())):
                raise StoreError(f"{redact_url(url)} is not empty (table {name} has rows): "
                                 "migrate into a fresh database")
            columns, rows = tables[name]
            unknown = sorted(set(columns) - set(target_tables[name]))
            if unknown:
                raise StoreError(f"table {name} of {redact_url(url)} lacks column(s) "
                                 f"{', '.join(unknown)}")
            insert = (f"INSERT INTO {name} ({', '.join(columns)}) VALUES "
                      f"({', '.join('%s' for _ in columns)})")
            async with conn.cursor() as cur:
                for start in range(0, len(rows), BATCH):
                    await cur.executemany(insert, [_convert(r) for r in
                                                   rows[start:start + BATCH]])
            report.tables[name] = len(rows)
        await _advance_sequences(conn)
    return report


def _convert(row: Sequence[Any]) -> tuple[Any, ...]:
    """SQLite values as PostgreSQL takes them (``memoryview`` blobs become bytes)."""
    return tuple(bytes(v) if isinstance(v, memoryview) else v for v in row)


async def _target_columns(conn: psycopg.AsyncConnection[Any]) -> dict[str, set[str]]:
    cursor = await conn.execute(
        "SELECT table_name, column_name FROM information_schema.columns "
        "WHERE table_schema = current_schema()")
    found: dict[str, set[str]] = {}
    for row in await cursor.fetchall():
        found.setdefault(row["table_name"], set()).add(row["column_name"])
    return found


async def _foreign_keys(conn: psycopg.AsyncConnection[Any]) -> list[tuple[str, str]]:
    """``(child, parent)`` pairs of the current schema's foreign keys."""
    cursor = await conn.execute(
        "SELECT c.conrelid::regclass::text AS child, c.confrelid::regclass::text AS parent "
        "FROM pg_constraint c JOIN pg_namespace n ON n.oid = c.connamespace "
        "WHERE c.contype = 'f' AND n.nspname = current_schema()")
    return [(row["child"], row["parent"]) for row in await cursor.fetchall()]


def _parents_first(tables: list[str], keys: list[tuple[str, str]]) -> list[str]:
    """``tables`` ordered so a referenced table comes before the tables referencing it."""
    ordered: list[str] = []

    def visit(name: str, path: tuple[str, ...]) -> None:
        if name in ordered or name in path:
            return
        for child, parent in keys:
            if child == name and parent in tables:
                visit(parent, (*path, name))
        ordered.append(name)

    for name in sorted(tables):
        visit(name, ())
    return ordered


async def _advance_sequences(conn: psycopg.AsyncConnection[Any]) -> None:
    """Move every serial column's sequence past the copied ids."""
    cursor = await conn.execute(
        "SELECT table_name, column_name FROM information_schema.columns WHERE "
        "table_schema = current_schema() AND column_default LIKE 'nextval(%%'")
    for row in await cursor.fetchall():
        table, column = row["table_name"], row["column_name"]
        await conn.execute(
            f"SELECT setval(pg_get_serial_sequence('{table}', '{column}'), "
            f"GREATEST((SELECT MAX({column}) FROM {table}), 1))")
