"""Assembling a :class:`~hybrid_calendar.gateway.Gateway` from configuration.

The gateway builds its cipher and KMS access itself; this module chooses the store by
``gateway.database`` (:func:`make_store`: a ``postgresql://`` URL is the PostgreSQL backend
shared by several processes, anything else the embedded SQLite file at
:func:`database_path`) and opens and closes the whole.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

import pluggy

from hybrid_calendar.clock import Clock, SystemClock
from hybrid_calendar.config import Config
from hybrid_calendar.crypto import FieldCipher
from hybrid_calendar.errors import ConfigError
from hybrid_calendar.gateway import Gateway
from hybrid_calendar.store.base import Store
from hybrid_calendar.store.sqlite import SqliteStore


def database_path(config: Config) -> str:
    """``gateway.database`` (a SQLite file or a ``postgresql://`` URL), or
    ``<gateway.data_dir>/gateway.sqlite3``."""
    configured = str(config.get("gateway", "database"))
    if configured:
        return configured
    return str(Path(config.get("gateway", "data_dir")) / "gateway.sqlite3")


POSTGRES_SCHEMES = ("postgresql://", "postgres://")
"""URL prefixes of ``gateway.database`` that choose the PostgreSQL backend."""


def is_postgres_url(database: str) -> bool:
    """True when ``database`` names a PostgreSQL database rather than a SQLite file."""
    return database.startswith(POSTGRES_SCHEMES)


def make_store(database: str, cipher: FieldCipher, *, synchronous: str = "FULL",
               pool_size: int = 10) -> Store:
    """The store for ``database``: a ``postgresql://`` URL or a SQLite file path.

    :raises ConfigError: PostgreSQL is asked for but the ``postgres`` extra is missing.
    """
    if is_postgres_url(database):
        try:
            from hybrid_calendar.store.postgres.store import PostgresStore
        except ImportError as err:
            raise ConfigError("gateway.database", "a postgresql:// URL needs psycopg: "
                              "pip install 'hybrid-calendar[postgres]'") from err
        return PostgresStore(database, cipher, pool_size=pool_size)
    return SqliteStore(database, cipher, synchronous=synchronous)


def build_gateway(config: Config, pm: pluggy.PluginManager, *, clock: Clock | None = None
                  ) -> Gateway:
    """Create the gateway with its cipher and store (nothing is opened yet)."""
    database, synchronous = database_path(config), str(config.get("gateway", "synchronous"))
    pool_size = int(config.get("gateway", "database_pool_size"))

    def store(cipher: FieldCipher) -> Store:
        return make_store(database, cipher, synchronous=synchronous, pool_size=pool_size)

    return Gateway(config, pm, store=store, clock=clock or SystemClock())


async def close_gateway(gateway: Gateway) -> None:
    """Release what :func:`build_gateway` set up: cipher counters, HTTP client, store."""
    try:
        await gateway.cipher.aclose()
    finally:
        await gateway.aclose()
        await gateway.store.close()


@contextlib.asynccontextmanager
async def opened_gateway(config: Config, pm: pluggy.PluginManager, *,
                         clock: Clock | None = None) -> AsyncIterator[Gateway]:
    """A built gateway with its store open, for one-off commands (no engine, no start-up
    hooks: nothing syncs or listens)."""
    from hybrid_calendar.admin.preflight import announce_data_dir

    announce_data_dir(config)
    gateway = build_gateway(config, pm, clock=clock)
    await gateway.store.open()
    try:
        yield gateway
    finally:
        await close_gateway(gateway)
