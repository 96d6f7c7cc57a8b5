"""The SQLite store passes the backend-neutral ``StoreTests`` suite."""

from __future__ import annotations

from pathlib import Path

import pytest

from hybrid_calendar.store.base import FieldCipher
from hybrid_calendar.store.sqlite import SqliteStore
from hybrid_calendar.store.testing import StoreBackend, StoreTests


class SqliteBackend:
    """One SQLite file; its raw bytes are the database file with its WAL and SHM."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def create(self, cipher: FieldCipher) -> SqliteStore:
        """A store on the file (created on open)."""
        return SqliteStore(self.path, cipher)

    async def raw_bytes(self) -> bytes:
        """The file and its ``-wal``/``-shm`` companions, as on disk."""
        files = sorted(self.path.parent.glob(self.path.name + "*"))
        return b"".join(f.read_bytes() for f in files)


class TestSqliteStore(StoreTests):
    @pytest.fixture
    def store_backend(self, tmp_path: Path) -> StoreBackend:
        return SqliteBackend(tmp_path / "gateway.sqlite3")
