"""The ``kms_pkcs11`` plugin against a real SoftHSM2 token."""

from __future__ import annotations

import uuid
from pathlib import Path

import anyio
import anyio.lowlevel
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
    with pytest.raises(KeyManagementError, match="not found"):
        plugin.viable(hsm_gateway(softhsm, module=missing).config)
    plugin.viable(hsm_gateway(softhsm).config)  # a token without a KEK yet is viable


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
        tokens: dict[str, str] = {}  # row id -> token; the row id names user and value
        for user in ("a0", "b0", "c0"):  # data keys wrapped under the first KEK
            sealer = await cipher.sealer("org", user)
            tokens[f"{user}-0"] = sealer.seal(f"t-{user}-0", table="m", row_id=f"{user}-0",
                                              column="title")
        rotating, during_rotation = [False], [0]
        reports = []

        async def writer(user: str) -> None:
            for i in range(1, 21):
                owner = f"{user}{i % 4}"  # new users appear: keys are wrapped meanwhile
                sealer = await cipher.sealer("org", owner)
                tokens[f"{owner}-{i}"] = sealer.seal(f"t-{owner}-{i}", table="m",
                                                     row_id=f"{owner}-{i}", column="title")
                during_rotation[0] += rotating[0]
                await anyio.lowlevel.checkpoint()

        async def rotator() -> None:
            await anyio.lowlevel.checkpoint()
            rotating[0] = True
            reports.append(await cipher.rotate_master_key())
            rotating[0] = False

        async with anyio.create_task_group() as group:
            for user in ("a", "b", "c", "d"):
                group.start_soon(writer, user)
            group.start_soon(rotator)
        assert during_rotation[0] > 0  # sealing really went on while keys were rewrapped
        [report] = reports
        # a0, b0, c0 and the index key, and the keys created before the KEK changed
        assert report.rewrapped >= 4 and report.failed == 0 and report.remaining == 0
        await cipher.aclose()
        assert {row["key_ref"] for row in runner.db["crypto_keys"].rows} == {report.key_ref}
        assert len(tokens) == 3 + 4 * 20
        fresh = FieldCipher(GatewayKms(gateway), KeyRepository(runner), gateway.clock)
        for row_id, token in tokens.items():
            user = row_id.split("-")[0]
            assert (await fresh.sealer("org", user)).open(
                token, table="m", row_id=row_id, column="title") == f"t-{row_id}"
        await fresh.aclose()
    finally:
        runner.close()
