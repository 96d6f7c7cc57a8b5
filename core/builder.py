"""Assembling a :class:`~hybrid_calendar.gateway.Gateway` from configuration.

The store encrypts with a :class:`~hybrid_calendar.crypto.FieldCipher` whose keys are
wrapped by the configured KMS plugin (through the gateway's hooks), so the three are
built together here.
"""

from __future__ import annotations

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
    cipher = FieldCipher(GatewayKms(gateway), KeyRepository(store.call), gateway.clock)
    slot.target = cipher
    gateway.state["cipher"] = cipher
    return gateway
