"""The PostgreSQL store passes the backend-neutral ``StoreTests`` suite, unchanged."""

from __future__ import annotations

import subprocess

import anyio.to_thread
import pytest

from hybrid_calendar.store.base import FieldCipher
from hybrid_calendar.store.postgres.local_server import LocalPostgres
from hybrid_calendar.store.postgres.store import PostgresStore
from hybrid_calendar.store.testing import StoreBackend, StoreTests


class PostgresBackend:
    """One schema on the session's server; its raw bytes are a ``pg_dump`` of it."""

    def __init__(self, server: LocalPostgres, url: str, schema: str) -> None:
        self.server = server
        self.url = url
        self.schema = schema

    def create(self, cipher: FieldCipher) -> PostgresStore:
        """A store on the database (migrated on open)."""
        return PostgresStore(self.url, cipher)

    async def raw_bytes(self) -> bytes:
        """Every row of the database as ``pg_dump`` writes it (schema and data)."""
        def dump() -> bytes:
            return subprocess.run([str(self.server.bin_dir / "pg_dump"), "--schema",
                                   self.schema, self.server.url],
                                  capture_output=True, check=True).stdout
        return await anyio.to_thread.run_sync(dump)


class TestPostgresStore(StoreTests):
    @pytest.fixture
    def store_backend(self, postgres_server: LocalPostgres,
                      postgres_schema: tuple[str, str]) -> StoreBackend:
        return PostgresBackend(postgres_server, *postgres_schema)
