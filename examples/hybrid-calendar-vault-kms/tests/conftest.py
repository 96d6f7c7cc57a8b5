"""Fixtures: the fake Vault, and a gateway whose only KMS is this plugin, loaded by its
entry point (``pip install .``), as ``serve`` loads it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from fake_vault import FakeVault

from hybrid_calendar.builder import build_gateway, close_gateway
from hybrid_calendar.gateway import Gateway
from hybrid_calendar.loading import load_config
from hybrid_calendar.plugins import NO_ENTRYPOINTS_ENV

KEY = "hybrid-calendar"


@pytest.fixture
def anyio_backend() -> str:
    """The gateway runs on asyncio."""
    return "asyncio"


@pytest.fixture
def vault() -> Iterator[FakeVault]:
    """The fake Vault with the transit key created, serving on loopback."""
    server = FakeVault()
    server.create_key(KEY)
    server.start()
    try:
        yield server
    finally:
        server.stop()


def vault_gateway(tmp_path: Path, vault: FakeVault, monkeypatch: pytest.MonkeyPatch,
                  **settings: Any) -> Gateway:
    """A gateway with no built-in plugin and this one configured for ``vault``."""
    monkeypatch.delenv(NO_ENTRYPOINTS_ENV, raising=False)
    config, pm = load_config(None, overrides={
        "plugins": {"enabled": [], "load_entrypoints": True},
        "gateway": {"data_dir": str(tmp_path)},
        "vault_transit": {"address": vault.address, "token": vault.token,
                          "key_name": KEY, **settings}}, environ={})
    assert pm.has_plugin("vault_transit"), ("the vault_transit entry point is not "
                                            "installed: pip install .")
    return build_gateway(config, pm)


@pytest.fixture
async def gateway(tmp_path: Path, vault: FakeVault, monkeypatch: pytest.MonkeyPatch
                  ) -> AsyncIterator[Gateway]:
    """The gateway, closed after the test."""
    built = vault_gateway(tmp_path, vault, monkeypatch)
    try:
        yield built
    finally:
        await close_gateway(built)
