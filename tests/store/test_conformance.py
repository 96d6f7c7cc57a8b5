"""The SQLite store passes the backend-neutral ``StoreTests`` suite."""

from __future__ import annotations

from pathlib import Path

import pytest

from hybrid_calendar.store.base import FieldCipher, Store
from hybrid_calendar.store.sqlite import SqliteStore
from hybrid_calendar.store.testing import StoreBackend, StoreTests
from hybrid_calendar.store.testing.accounts import AccountTests
from hybrid_calendar.store.testing.jobs import JobQueueTests


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


class SqliteStoreWithDefaultBatches(SqliteStore):
    """SQLite with the base class's batch operations (a third-party backend without its
    own): each runs the single operations in turn."""

    add_users = Store.add_users
    enqueue_many = Store.enqueue_many


class DefaultBatchesBackend(SqliteBackend):
    """A SQLite file opened as :class:`SqliteStoreWithDefaultBatches`."""

    def create(self, cipher: FieldCipher) -> SqliteStore:
        """A store on the file whose batch operations are the base class's."""
        return SqliteStoreWithDefaultBatches(self.path, cipher)


class TestBaseClassBatchOperations(AccountTests, JobQueueTests):
    """The base class's ``add_users`` and ``enqueue_many`` pass the same tests as the
    backends' own (one statement or transaction per call)."""

    @pytest.fixture
    def store_backend(self, tmp_path: Path) -> StoreBackend:
        return DefaultBatchesBackend(tmp_path / "gateway.sqlite3")
