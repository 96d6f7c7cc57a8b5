"""What this KMS does beyond the shared contract: start-up checks, Vault's refusals,
settings, and staying out of the way until configured."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from conftest import KEY, vault_gateway
from fake_vault import FakeVault

from hybrid_calendar.builder import close_gateway
from hybrid_calendar.cli import main
from hybrid_calendar.crypto import GatewayKms
from hybrid_calendar.errors import KeyManagementError, PluginError
from hybrid_calendar.gateway import Gateway
from hybrid_calendar.plugins import NO_ENTRYPOINTS_ENV

pytestmark = pytest.mark.anyio


async def test_hook_wrap_key_keeps_the_key_in_vault(gateway: Gateway, vault: FakeVault
                                                    ) -> None:
    wrapped = await gateway.hooks.wrap_key(gateway, b"k" * 32, b"org/user")
    assert wrapped.kms == "vault_transit" and wrapped.key_ref == "v1"
    assert wrapped.blob.startswith(b"vault:v1:")
    vault.keys[KEY] = [os.urandom(32)]  # another key: the blob no longer opens
    with pytest.raises(KeyManagementError, match="message authentication failed"):
        await GatewayKms(gateway).unwrap(wrapped, b"org/user")


async def test_startup_names_a_missing_transit_key_and_how_to_create_it(
        tmp_path: Path, vault: FakeVault, monkeypatch: pytest.MonkeyPatch) -> None:
    gateway = vault_gateway(tmp_path, vault, monkeypatch, key_name="other")
    try:
        with pytest.raises(PluginError, match=r"plugin 'vault_transit': startup failed: "
                           r".*vault write -f transit/keys/other type=aes256-gcm96"):
            await gateway.hooks.startup(gateway)
    finally:
        await close_gateway(gateway)


async def test_a_refused_token_and_a_sealed_vault_are_unhealthy_with_the_reason(
        gateway: Gateway, vault: FakeVault) -> None:
    kms = GatewayKms(gateway)
    assert (await kms.status()).healthy
    vault.token = "rotated-elsewhere"
    status = await kms.status()
    assert not status.healthy and "Vault refused the token: permission denied" in (
        status.reason or "")
    assert gateway.config.get("vault_transit", "token").reveal() not in (status.reason or "")
    vault.token = gateway.config.get("vault_transit", "token").reveal()
    vault.sealed = True
    with pytest.raises(KeyManagementError, match="HTTP 503: Vault is sealed"):
        await kms.wrap(b"k" * 32, b"ctx")


async def test_unconfigured_it_answers_nothing(tmp_path: Path, vault: FakeVault,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    gateway = vault_gateway(tmp_path, vault, monkeypatch, address="")
    try:
        assert gateway.pm.has_plugin("vault_transit")
        with pytest.raises(KeyManagementError, match="no KMS plugin answered"):
            await GatewayKms(gateway).wrap(b"k" * 32, b"ctx")
        assert (await GatewayKms(gateway).status()).kms == "none"
    finally:
        await close_gateway(gateway)


@pytest.mark.parametrize(("settings", "problem"), [
    ('address = "https://vault.acme.test:8200"\n',
     "vault_transit.token: is required when vault_transit.address is set"),
    ('address = "http://vault.acme.test:8200"\ntoken = "s.x"\n',
     "vault_transit.address: must be https://"),
])
def test_config_check_names_what_is_missing(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
        settings: str, problem: str) -> None:
    monkeypatch.delenv(NO_ENTRYPOINTS_ENV, raising=False)
    config = tmp_path / "gateway.toml"
    config.write_text(f'[plugins]\nenabled = []\n[gateway]\ndata_dir = "{tmp_path}"\n'
                      f"[vault_transit]\n{settings}")
    assert main(["config", "check", str(config)]) == 2
    assert problem in capsys.readouterr().err
