"""The gateway's typed parts and its per-plugin state."""

from __future__ import annotations

from pathlib import Path

import pytest

from hybrid_calendar.builder import build_gateway
from hybrid_calendar.crypto import FieldCipher
from hybrid_calendar.gateway import PluginState
from hybrid_calendar.loading import load_config
from hybrid_calendar.store.sqlite import SqliteStore


class Ring:
    """A plugin's private object."""


def test_plugin_state_is_typed_and_namespaced_by_plugin() -> None:
    state = PluginState()
    made: list[Ring] = []

    def make() -> Ring:
        made.append(Ring())
        return made[-1]

    ring = state.get_or_create("acme", Ring, make)
    assert state.get_or_create("acme", Ring, make) is ring and len(made) == 1
    assert state.get("acme", Ring) is ring
    assert state.get("other", Ring) is None and "other" not in state
    with pytest.raises(TypeError, match=r"plugin 'acme' is a Ring, not a str"):
        state.get("acme", str)
    assert state.pop("acme", Ring) is ring
    assert state.get("acme", Ring) is None


def test_built_gateway_store_encrypts_through_the_gateway_cipher(tmp_path: Path) -> None:
    config, pm = load_config(None, overrides={
        "gateway": {"data_dir": str(tmp_path)},
        "plugins": {"enabled": ["kms_local"], "load_entrypoints": False}}, environ={})
    gateway = build_gateway(config, pm)
    assert isinstance(gateway.cipher, FieldCipher)
    assert isinstance(gateway.store, SqliteStore)
    assert gateway.store.cipher is gateway.cipher
