"""Upgrading to the version that reads an event's privacy makes every user's next sync a
full one (migration ``m018_full_resync_for_private_events``, SQLite and PostgreSQL).

Meetings stored before hold ``private`` as false, and an incremental sync lists only
events that changed: without the full sync, an event that was already private would keep
its title on room devices until it changed. The upgrade is played by opening a store,
storing a cursor, forgetting that the migration was applied and opening the store again,
as a gateway of the new version does on a database of the old one.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import psycopg
import pytest

from hybrid_calendar.models import Organisation, User, UserState
from hybrid_calendar.store.base import Store
from hybrid_calendar.store.postgres.store import PostgresStore
from hybrid_calendar.store.sqlite import SqliteStore
from hybrid_calendar.store.testing import ReversibleCipher

MIGRATION = "m018_full_resync_for_private_events"
NOW = datetime(2026, 12, 1, 12, tzinfo=UTC)
USER = User(id="u1", org_id="org", email="a@example.com", state=UserState.ACTIVE)


async def _store_a_cursor(store: Store, cursor: str) -> None:
    await store.put_organisation(Organisation(id="org", name="Org", domain="example.com"))
    await store.put_user(USER)
    await store.apply_changes(USER, [], [], cursor, full_sync=True, synced_at=NOW)


async def _cursor(store: Store) -> str | None:
    return (await store.get_sync_state(USER.id)).cursor


async def _play_upgrade(new_store: Callable[[], Store], forget_migration: Callable[[], int]
                        ) -> None:
    """Store a cursor, forget that the migration ran (``forget_migration`` returns the
    records it deleted), open again: the cursor is gone once, not at every start."""
    store = new_store()
    await store.open()
    await _store_a_cursor(store, "sync-token-1")
    assert await _cursor(store) == "sync-token-1"  # a fresh database: nothing cleared
    await store.close()
    assert forget_migration() == 1  # the database as the version before left it

    upgraded = new_store()
    await upgraded.open()
    try:
        assert await _cursor(upgraded) is None  # the next sync lists every event
        await upgraded.apply_changes(USER, [], [], "sync-token-2", full_sync=True,
                                     synced_at=NOW)
    finally:
        await upgraded.close()
    again = new_store()
    await again.open()
    try:
        assert await _cursor(again) == "sync-token-2"  # applied once, not at every start
    finally:
        await again.close()


@pytest.mark.anyio
async def test_sqlite_upgrade_clears_every_cursor_once(tmp_path: Path) -> None:
    path = tmp_path / "gw.sqlite3"

    def forget() -> int:
        with sqlite3.connect(path) as db:
            return db.execute("DELETE FROM _sqlite_migrations WHERE migration_set = 'core' "
                              "AND name = ?", (MIGRATION,)).rowcount

    await _play_upgrade(lambda: SqliteStore(path, ReversibleCipher()), forget)


@pytest.mark.anyio
async def test_postgresql_upgrade_clears_every_cursor_once(postgres_url: str) -> None:
    def forget() -> int:
        with psycopg.connect(postgres_url, autocommit=True) as conn:
            return conn.execute("DELETE FROM _pg_migrations WHERE migration_set = 'core' "
                                "AND name = %s", (MIGRATION,)).rowcount

    await _play_upgrade(lambda: PostgresStore(postgres_url, ReversibleCipher()), forget)
