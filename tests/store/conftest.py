"""Store fixtures: a real SQLite file, or a fresh database on the test run's PostgreSQL
server, with the suite's reversible, authenticating cipher."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from hybrid_calendar.store.base import Store
from hybrid_calendar.store.postgres.store import PostgresStore
from hybrid_calendar.store.sqlite import SqliteStore
from hybrid_calendar.store.testing import ReversibleCipher


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[SqliteStore]:
    """An open store on a fresh file."""
    s = SqliteStore(tmp_path / "gw.sqlite3", ReversibleCipher())
    await s.open()
    try:
        yield s
    finally:
        await s.close()


@pytest.fixture
async def pg_store(postgres_url: str) -> AsyncIterator[PostgresStore]:
    """An open PostgreSQL store on a fresh database (a pool of four connections)."""
    opened = PostgresStore(postgres_url, ReversibleCipher(), pool_size=4)
    await opened.open()
    try:
        yield opened
    finally:
        await opened.close()


@pytest.fixture(params=["sqlite", "postgresql"])
def either_store(request: pytest.FixtureRequest) -> Store:
    """The SQLite store, then the PostgreSQL one (for behaviour both built-in stores share
    beyond ``StoreTests``: their own one-write paths against the base class's default)."""
    store: Store = request.getfixturevalue("store" if request.param == "sqlite"
                                           else "pg_store")
    return store
