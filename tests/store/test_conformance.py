"""The SQLite store passes the backend-neutral ``StoreTests`` suite."""

from __future__ import annotations

from pathlib import Path

import pytest

from hybrid_calendar.store.base import FieldCipher, Store
from hybrid_calendar.store.sqlite import SqliteStore
from hybrid_calendar.store.testing import ReversibleCipher, StoreBackend, StoreTests
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
    own): each runs the single operations in turn; and its user-id listing, which lists
    the users."""

    add_users = Store.add_users
    enqueue_many = Store.enqueue_many
    list_user_ids = Store.list_user_ids


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


class SqliteStoreWithDefaultUpdate(SqliteStore):
    """SQLite with the base class's ``update_org_secret`` (get, then put)."""

    update_org_secret = Store.update_org_secret


class DefaultUpdateBackend(SqliteBackend):
    """A SQLite file opened as :class:`SqliteStoreWithDefaultUpdate`."""

    def create(self, cipher: FieldCipher) -> SqliteStore:
        """A store on the file whose ``update_org_secret`` is the base class's."""
        return SqliteStoreWithDefaultUpdate(self.path, cipher)


class TestBaseClassUpdateOrgSecret(AccountTests):
    """The base class's ``update_org_secret`` has the suite's semantics, but it is not
    atomic: the suite's concurrency test catches the updates it loses (so that test
    would catch a backend whose own update is not atomic either)."""

    @pytest.fixture
    def store_backend(self, tmp_path: Path) -> StoreBackend:
        return DefaultUpdateBackend(tmp_path / "gateway.sqlite3")

    @pytest.mark.anyio
    async def test_concurrent_org_secret_updates_from_two_stores_lose_nothing(
            self, store: Store, store_backend: StoreBackend, cipher: ReversibleCipher,
            called: set[str]) -> None:
        with pytest.raises(AssertionError, match="updates lost"):
            await super().test_concurrent_org_secret_updates_from_two_stores_lose_nothing(
                store, store_backend, cipher, called)
