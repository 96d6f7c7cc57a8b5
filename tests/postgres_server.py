"""A real PostgreSQL server for the test run (pytest plugin, see tests/conftest.py).

One server per test session (:class:`~hybrid_calendar.store.postgres.local_server.LocalPostgres`:
Debian's binaries, a temporary data directory, 127.0.0.1 on a free port); every test that
asks for ``postgres_url`` gets a fresh, empty schema of its own (``search_path`` in the
URL: creating a schema takes milliseconds, a database a third of a second). A machine without the
server binaries fails these tests with the reason; it never skips them.
"""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager

import psycopg
import pytest

from hybrid_calendar.store.postgres.local_server import LocalPostgres
from hybrid_calendar.store.postgres.store import PostgresStore
from hybrid_calendar.store.testing import ReversibleCipher

_numbers = itertools.count(1)


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[LocalPostgres]:
    """The session's PostgreSQL server (started on first use, stopped at the end)."""
    server = LocalPostgres()
    try:
        server.start()
    except Exception as err:
        server.stop()
        pytest.fail(f"cannot start the test PostgreSQL server: {err}", pytrace=False)
    try:
        yield server
    finally:
        server.stop()


def create_schema(server: LocalPostgres) -> tuple[str, str]:
    """A new, empty schema in the server's ``postgres`` database: ``(url, schema)``; the
    URL makes it the only schema on the search path of every connection."""
    schema = f"test_{next(_numbers)}"
    with psycopg.connect(server.url, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
    return f"{server.url}?options=-csearch_path%3D{schema}", schema


@pytest.fixture
def postgres_schema(postgres_server: LocalPostgres) -> tuple[str, str]:
    """A fresh, empty schema for this test: ``(url, schema name)``."""
    return create_schema(postgres_server)


@pytest.fixture
def postgres_url(postgres_schema: tuple[str, str]) -> str:
    """The URL of a fresh, empty database (schema) for this test."""
    return postgres_schema[0]


@contextmanager
def statement_counting_server() -> Iterator[LocalPostgres]:
    """A PostgreSQL server of the caller's own with ``pg_stat_statements`` loaded (top-level
    statements tracked) and its extension created; stopped on exit."""
    server = LocalPostgres(settings={"shared_preload_libraries": "pg_stat_statements",
                                     "pg_stat_statements.track": "top"})
    try:
        server.start()
        with psycopg.connect(server.url, autocommit=True) as conn:
            conn.execute("CREATE EXTENSION pg_stat_statements")
        yield server
    finally:
        server.stop()


@asynccontextmanager
async def opened_stores(url: str, count: int, *,
                        pool_size: int) -> AsyncIterator[list[PostgresStore]]:
    """``count`` opened PostgreSQL stores on ``url``, as that many gateway processes
    would hold them (each its own pool of ``pool_size``); closed on exit."""
    stores = [PostgresStore(url, ReversibleCipher(), pool_size=pool_size)
              for _ in range(count)]
    for store in stores:
        await store.open()
    try:
        yield stores
    finally:
        for store in stores:
            await store.close()


@pytest.fixture
async def two_processes(postgres_url: str) -> AsyncIterator[list[PostgresStore]]:
    """Two opened PostgreSQL stores on one fresh database, as two gateway processes
    would hold them (each its own pool)."""
    async with opened_stores(postgres_url, 2, pool_size=2) as stores:
        yield stores
