"""Assembling a :class:`~hybrid_calendar.gateway.Gateway` from configuration.

The store encrypts with a :class:`~hybrid_calendar.crypto.FieldCipher` whose keys are
wrapped by the configured KMS plugin (through the gateway's hooks), so the three are
built together here.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import TYPE_CHECKING

import pluggy

from hybrid_calendar.clock import Clock, SystemClock
from hybrid_calendar.config import Config
from hybrid_calendar.crypto import FieldCipher
from hybrid_calendar.crypto.kms import GatewayKms
from hybrid_calendar.crypto.repository import KeyRepository
from hybrid_calendar.gateway import Gateway
from hybrid_calendar.store.sqlite import SqliteStore

if TYPE_CHECKING:
    from hybrid_calendar.store.base import Sealer


class _CipherSlot:
    """Lets the store hold the cipher before the cipher (which needs the gateway) exists."""

    target: FieldCipher | None = None

    async def sealer(self, org_id: str, user_id: str | None) -> Sealer:
        assert self.target is not None
        return await self.target.sealer(org_id, user_id)

    async def blind_index(self, org_id: str, value: str) -> str:
        assert self.target is not None
        return await self.target.blind_index(org_id, value)


def database_path(config: Config) -> str:
    """``gateway.database``, or ``<gateway.data_dir>/gateway.sqlite3``."""
    configured = str(config.get("gateway", "database"))
    if configured:
        return configured
    return str(Path(config.get("gateway", "data_dir")) / "gateway.sqlite3")


def build_gateway(config: Config, pm: pluggy.PluginManager, *, clock: Clock | None = None
                  ) -> Gateway:
    """Create the store, cipher and gateway for one process (nothing is opened yet)."""
    slot = _CipherSlot()
    store = SqliteStore(database_path(config), slot,
                        synchronous=str(config.get("gateway", "synchronous")))
    gateway = Gateway(config=config, pm=pm, store=store, clock=clock or SystemClock())
    cipher = FieldCipher(GatewayKms(gateway), KeyRepository(store.call), gateway.clock,
                         cache_size=int(config.get("gateway", "key_cache_size")))
    slot.target = cipher
    gateway.state["cipher"] = cipher
    return gateway


async def close_gateway(gateway: Gateway) -> None:
    """Release what :func:`build_gateway` set up: cipher counters, HTTP client, store."""
    cipher = gateway.state.get("cipher")
    try:
        if cipher is not None:
            await cipher.aclose()
    finally:
        await gateway.aclose()
        await gateway.store.close()


@contextlib.asynccontextmanager
async def opened_gateway(config: Config, pm: pluggy.PluginManager, *,
                         clock: Clock | None = None) -> AsyncIterator[Gateway]:
    """A built gateway with its store open, for one-off commands (no engine, no start-up
    hooks: nothing syncs or listens)."""
    gateway = build_gateway(config, pm, clock=clock)
    await gateway.store.open()
    try:
        yield gateway
    finally:
        await close_gateway(gateway)
