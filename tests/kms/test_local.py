"""The ``kms_local`` plugin: conformance suite plus key-file specifics."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest

from hybrid_calendar.crypto import GatewayKms
from hybrid_calendar.crypto.testing import KeyStoreTests, build_gateway
from hybrid_calendar.errors import KeyManagementError, PluginError
from hybrid_calendar.gateway import Gateway
from hybrid_calendar_kms import local


def local_gateway(tmp_path: Path) -> Gateway:
    return build_gateway(["kms_local"], {"gateway": {"data_dir": str(tmp_path / "var")}})


class TestLocalKeyStore(KeyStoreTests):
    @pytest.fixture
    def kms_gateway(self, tmp_path: Path) -> Gateway:
        return local_gateway(tmp_path)


@pytest.mark.anyio
async def test_key_file_created_0600_on_first_start(tmp_path: Path) -> None:
    gateway = local_gateway(tmp_path)
    path = tmp_path / "var" / "kms-local.json"
    assert not path.exists()
    await gateway.hooks.startup(gateway)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    body = json.loads(path.read_text())
    assert body["current"] == "kek-v1" and set(body["keys"]) == {"kek-v1"}
    local.viable(gateway.config)


@pytest.mark.anyio
async def test_loose_permissions_refuse_start_naming_file_and_fix(tmp_path: Path) -> None:
    first = local_gateway(tmp_path)
    await first.hooks.startup(first)
    path = tmp_path / "var" / "kms-local.json"
    os.chmod(path, 0o644)
    second = local_gateway(tmp_path)
    with pytest.raises(PluginError, match=r"0644.*chmod 600") as info:
        await second.hooks.startup(second)
    assert str(path) in str(info.value)
    with pytest.raises(KeyManagementError, match="chmod 600"):
        local.viable(second.config)
    status = await GatewayKms(second).status()
    assert not status.healthy and "chmod 600" in (status.reason or "")


@pytest.mark.anyio
async def test_configured_key_file_and_atomic_rotation(tmp_path: Path) -> None:
    path = tmp_path / "secrets" / "kek.json"
    gateway = build_gateway(["kms_local"], {"kms_local": {"key_file": str(path)}})
    kms = GatewayKms(gateway)
    wrapped = await kms.wrap(b"k" * 32, b"ctx")
    before = path.stat().st_ino
    assert await kms.rotate() == "kek-v2"
    assert path.stat().st_ino != before  # replaced by rename, not rewritten in place
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert set(json.loads(path.read_text())["keys"]) == {"kek-v1", "kek-v2"}
    assert not [p for p in path.parent.iterdir() if p.name.endswith(".tmp")]
    assert await kms.unwrap(wrapped, b"ctx") == b"k" * 32


@pytest.mark.anyio
async def test_rotation_by_another_process_is_seen(tmp_path: Path) -> None:
    server, cli = local_gateway(tmp_path), local_gateway(tmp_path)
    old = await GatewayKms(server).wrap(b"k" * 32, b"ctx")
    new_ref = await GatewayKms(cli).rotate()
    rewrapped = await GatewayKms(cli).wrap(b"k" * 32, b"ctx")
    assert (await GatewayKms(server).wrap(b"x" * 32, b"ctx")).key_ref == new_ref
    assert await GatewayKms(server).unwrap(rewrapped, b"ctx") == b"k" * 32
    assert await GatewayKms(server).unwrap(old, b"ctx") == b"k" * 32


@pytest.mark.anyio
async def test_deleted_key_file_is_unhealthy_and_not_recreated(tmp_path: Path) -> None:
    gateway = local_gateway(tmp_path)
    kms = GatewayKms(gateway)
    wrapped = await kms.wrap(b"k" * 32, b"ctx")
    (tmp_path / "var" / "kms-local.json").unlink()
    status = await kms.status()
    assert not status.healthy and "missing" in (status.reason or "")
    with pytest.raises(KeyManagementError, match="missing"):
        await kms.unwrap(wrapped, b"ctx")
    with pytest.raises(KeyManagementError, match="missing"):
        await kms.wrap(b"k" * 32, b"ctx")
    assert not (tmp_path / "var" / "kms-local.json").exists()


def test_damaged_key_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "kek.json"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o600)
    os.write(fd, b"{not json")
    os.close(fd)
    gateway = build_gateway(["kms_local"], {"kms_local": {"key_file": str(path)}})
    with pytest.raises(KeyManagementError, match="damaged"):
        local.viable(gateway.config)
