"""Assembling a :class:`~hybrid_calendar.gateway.Gateway` from configuration.

The gateway builds its cipher and KMS access itself; this module chooses the store (the
embedded SQLite database at :func:`database_path`) and opens and closes the whole.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

import pluggy

from hybrid_calendar.clock import Clock, SystemClock
from hybrid_calendar.config import Config
from hybrid_calendar.crypto import FieldCipher
from hybrid_calendar.gateway import Gateway
from hybrid_calendar.store.sqlite import SqliteStore


def database_path(config: Config) -> str:
    """``gateway.database``, or ``<gateway.data_dir>/gateway.sqlite3``."""
    configured = str(config.get("gateway", "database"))
    if configured:
        return configured
    return str(Path(config.get("gateway", "data_dir")) / "gateway.sqlite3")


def build_gateway(config: Config, pm: pluggy.PluginManager, *, clock: Clock | None = None
                  ) -> Gateway:
    """Create the gateway with its cipher and SQLite store (nothing is opened yet)."""
    path, synchronous = database_path(config), str(config.get("gateway", "synchronous"))

    def sqlite_store(cipher: FieldCipher) -> SqliteStore:
        return SqliteStore(path, cipher, synchronous=synchronous)

    return Gateway(config, pm, store=sqlite_store, clock=clock or SystemClock())


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
