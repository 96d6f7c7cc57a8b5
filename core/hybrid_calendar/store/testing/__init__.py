"""``StoreTests``: the conformance suite every :class:`~hybrid_calendar.store.base.Store`
backend passes, unchanged (SQLite today; PostgreSQL joins the same way).

A backend joins by subclassing and writing one fixture, ``store_backend``, that returns a
:class:`StoreBackend` for a fresh, empty database::

    class TestSqliteStore(StoreTests):
        @pytest.fixture
        def store_backend(self, tmp_path: Path) -> StoreBackend:
            return SqliteBackend(tmp_path / "gateway.sqlite3")

The suite covers every public method of ``Store``: a test declares the methods it
exercises with :func:`covers` and fails if it does not call them, and
``test_every_public_store_method_has_a_test`` fails, naming the method, when a new one has
no test. Nothing in it knows a backend: time is passed in, encryption is checked on
``StoreBackend.raw_bytes()``, and the cipher is :class:`ReversibleCipher`.
"""

from __future__ import annotations

from hybrid_calendar.store.testing.accounts import AccountTests
from hybrid_calendar.store.testing.activation_writes import ActivationWriteTests
from hybrid_calendar.store.testing.budget_pools import BudgetPoolTests
from hybrid_calendar.store.testing.budgets import BudgetTests
from hybrid_calendar.store.testing.encryption import EncryptionTests
from hybrid_calendar.store.testing.jobs import JobQueueTests
from hybrid_calendar.store.testing.keys import KeyStorageTests
from hybrid_calendar.store.testing.leases import LeaseTests
from hybrid_calendar.store.testing.meetings import MeetingTests
from hybrid_calendar.store.testing.outbox import OutboxTests
from hybrid_calendar.store.testing.support import (
    NOW,
    ReversibleCipher,
    StoreBackend,
    covers,
    declared_methods,
    public_store_methods,
)
from hybrid_calendar.store.testing.sync_writes import SyncWriteTests
from hybrid_calendar.store.testing.unchanged_syncs import UnchangedSyncTests

__all__ = ["NOW", "ReversibleCipher", "StoreBackend", "StoreTests", "covers"]


class StoreTests(AccountTests, MeetingTests, JobQueueTests, OutboxTests, EncryptionTests,
                 KeyStorageTests, BudgetTests, BudgetPoolTests, SyncWriteTests,
                 ActivationWriteTests, UnchangedSyncTests, LeaseTests):
    """Conformance tests of a store backend; subclasses provide ``store_backend``."""

    def test_every_public_store_method_has_a_test(self) -> None:
        declared: set[str] = set()
        for name in dir(type(self)):
            if name.startswith("test_"):
                declared |= declared_methods(getattr(type(self), name))
        untested = sorted(public_store_methods() - declared)
        assert not untested, f"Store methods without a StoreTests test: {untested}"
        unknown = sorted(declared - public_store_methods())
        assert not unknown, f"StoreTests declares methods Store does not have: {unknown}"
