"""PostgreSQL's schema history mirrors SQLite's, migration for migration."""

from __future__ import annotations

import importlib
import pkgutil

import psycopg
import pytest
from sqlite_utils import Migrations

import hybrid_calendar
from hybrid_calendar.store.postgres import migrations as pg
from hybrid_calendar.store.postgres.local_server import LocalPostgres
from hybrid_calendar.store.postgres.store import PostgresStore
from hybrid_calendar.store.testing import ReversibleCipher

PLUGIN_PACKAGES = ("hybrid_calendar_google", "hybrid_calendar_webex", "hybrid_calendar_kms")


def sqlite_migration_sets() -> dict[str, list[str]]:
    """Every ``sqlite_utils.Migrations`` set defined at module level anywhere in the core
    and the bundled plugins: set name to migration names, in order."""
    found: dict[str, list[str]] = {}
    packages = [hybrid_calendar, *(importlib.import_module(p) for p in PLUGIN_PACKAGES)]
    for package in packages:
        for info in pkgutil.walk_packages(package.__path__, package.__name__ + "."):
            module = importlib.import_module(info.name)
            for value in vars(module).values():
                if isinstance(value, Migrations):
                    found[value.name] = [m.name for m in value._migrations]
    return found


def test_every_sqlite_migration_has_a_postgresql_twin_in_the_same_order() -> None:
    sqlite = sqlite_migration_sets()
    assert {"core", "crypto"} <= set(sqlite)  # the scan really finds the sets
    postgres = {s.name: [m.name for m in s.migrations] for s in pg.SETS}
    assert postgres == sqlite, ("a SQLite migration set differs from its PostgreSQL twin in "
                                "hybrid_calendar/store/postgres/migrations.py")


@pytest.mark.anyio
async def test_opening_applies_each_migration_once(postgres_url: str,
                                                   postgres_server: LocalPostgres) -> None:
    first, second = (PostgresStore(postgres_url, ReversibleCipher()) for _ in range(2))
    await first.open()
    await second.open()  # a second process starting: nothing left to apply
    await first.close()
    await second.close()
    with psycopg.connect(postgres_url) as conn:
        applied = conn.execute("SELECT migration_set || '/' || name FROM _pg_migrations "
                               "ORDER BY applied_at, migration_set, name").fetchall()
    expected = [f"{s.name}/{m.name}" for s in pg.SETS for m in s.migrations]
    assert sorted(row[0] for row in applied) == sorted(expected)
