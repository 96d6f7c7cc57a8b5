"""The ``kms_pkcs11`` plugin against a real SoftHSM2 token."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from pkcs11 import Attribute, ObjectClass

from hybrid_calendar.crypto import FieldCipher, GatewayKms, KeyRepository
from hybrid_calendar.crypto.testing import KeyStoreTests, SqliteRunner, build_gateway
from hybrid_calendar.errors import KeyManagementError, PluginError
from hybrid_calendar.gateway import Gateway
from hybrid_calendar_kms import pkcs11 as plugin

from .conftest import SoftHsm

pytestmark = pytest.mark.softhsm


def hsm_gateway(softhsm: SoftHsm, **overrides: str) -> Gateway:
    settings = {"module": softhsm.module, "token_label": softhsm.token_label,
                "pin": softhsm.pin, "key_label": f"kek-{uuid.uuid4().hex[:8]}"} | overrides
    return build_gateway(["kms_pkcs11"], {"kms_pkcs11": settings})


class TestPkcs11KeyStore(KeyStoreTests):
    @pytest.fixture
    def kms_gateway(self, softhsm: SoftHsm) -> Gateway:
        return hsm_gateway(softhsm)


@pytest.mark.anyio
async def test_kek_is_generated_in_token_sensitive_not_extractable(softhsm: SoftHsm) -> None:
    gateway = hsm_gateway(softhsm)
    await gateway.hooks.startup(gateway)
    await GatewayKms(gateway).rotate()
    label = gateway.config.get("kms_pkcs11", "key_label")
    ring = plugin.keyring(gateway)

    def inspect(session: object) -> list[tuple[str, bool, bool]]:
        objects = session.get_objects({Attribute.CLASS: ObjectClass.SECRET_KEY})  # type: ignore[attr-defined]
        return sorted((o.label, o[Attribute.SENSITIVE], o[Attribute.EXTRACTABLE])
                      for o in list(objects) if o.label.startswith(label))
    assert ring._call("inspect", inspect) == [(f"{label}-v1", True, False),
                                              (f"{label}-v2", True, False)]

    def read_value(session: object) -> bytes:
        key = session.get_key(label=f"{label}-v1")  # type: ignore[attr-defined]
        return bytes(key[Attribute.VALUE])
    with pytest.raises(KeyManagementError):  # the token refuses to reveal the KEK
        ring._call("read", read_value)
    assert (await GatewayKms(gateway).status()).healthy  # session usable afterwards


@pytest.mark.anyio
async def test_wrong_pin_refuses_start_with_reason(softhsm: SoftHsm) -> None:
    plugin.keyring(hsm_gateway(softhsm)).close()  # no session open: login is attempted
    gateway = hsm_gateway(softhsm, pin="9999")
    with pytest.raises(PluginError, match=r"PIN .* is incorrect"):
        await gateway.hooks.startup(gateway)
    assert "9999" not in str((await GatewayKms(gateway).status()).reason)


@pytest.mark.anyio
async def test_missing_token_or_module_is_not_viable(softhsm: SoftHsm, tmp_path: Path) -> None:
    with pytest.raises(KeyManagementError, match="no PKCS#11 token labelled 'absent'"):
        plugin.viable(hsm_gateway(softhsm, token_label="absent").config)
    missing = str(tmp_path / "libnothing.so")
    status = await GatewayKms(hsm_gateway(softhsm, module=missing)).status()
    assert not status.healthy and "not found" in (status.reason or "")
    plugin.viable(hsm_gateway(softhsm).config)


@pytest.mark.anyio
async def test_missing_pin_is_a_clear_error(softhsm: SoftHsm) -> None:
    gateway = hsm_gateway(softhsm, pin="")
    status = await GatewayKms(gateway).status()
    assert not status.healthy and "kms_pkcs11.pin is not set" in (status.reason or "")


@pytest.mark.anyio
async def test_pin_from_env_indirection(softhsm: SoftHsm, monkeypatch: pytest.MonkeyPatch
                                        ) -> None:
    monkeypatch.setenv("TEST_HSM_PIN", softhsm.pin)
    from hybrid_calendar.config import collect_specs, load
    from hybrid_calendar.hooks import Hooks
    gateway = hsm_gateway(softhsm)
    specs = collect_specs(Hooks(gateway.pm).register_settings)
    config = load(specs, {"kms_pkcs11": {"module": softhsm.module,
                                         "token_label": softhsm.token_label,
                                         "pin": "$env:TEST_HSM_PIN"}})
    assert softhsm.pin not in repr(config.get("kms_pkcs11", "pin"))
    plugin.viable(config)


@pytest.mark.anyio
async def test_concurrent_sealing_and_rotation_with_hsm(softhsm: SoftHsm,
                                                        tmp_path: Path) -> None:
    gateway = hsm_gateway(softhsm)
    await gateway.hooks.startup(gateway)
    runner = SqliteRunner(tmp_path / "k.db")
    try:
        cipher = FieldCipher(GatewayKms(gateway), KeyRepository(runner), gateway.clock)
        tokens = {}
        for user in ("a", "b", "c"):
            sealer = await cipher.sealer("org", user)
            tokens[user] = sealer.seal(f"t-{user}", table="m", row_id=user, column="title")
        report = await cipher.rotate_master_key()
        assert report.rewrapped == 4 and report.remaining == 0
        await cipher.aclose()
        fresh = FieldCipher(GatewayKms(gateway), KeyRepository(runner), gateway.clock)
        for user, token in tokens.items():
            assert (await fresh.sealer("org", user)).open(
                token, table="m", row_id=user, column="title") == f"t-{user}"
        await fresh.aclose()
    finally:
        runner.close()
