"""A key or database file that exists but cannot be trusted stops ``hybrid-calendar serve``
with one line naming the file and what to do, and exit status 2 (issue 15, items 2 and 4).

Each test prepares the data directory with the real gateway (in process), damages one
file, then starts the real ``serve`` command as a subprocess.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

from hybrid_calendar.builder import build_gateway, close_gateway
from hybrid_calendar.loading import load_config


def settings(tmp_path: Path) -> dict[str, str]:
    """The gateway's environment: a data directory, kms_local, a free port."""
    return {"HYBRID_CALENDAR_GATEWAY__DATA_DIR": str(tmp_path / "data"),
            "HYBRID_CALENDAR_GATEWAY__PORT": "0",
            "HYBRID_CALENDAR_GATEWAY__ADMIN_TOKEN": "a-strong-admin-token-0123456789abcdef",
            "HYBRID_CALENDAR_PLUGINS__ENABLED": "kms_local,join_info",
            "HYBRID_CALENDAR_PLUGINS__LOAD_ENTRYPOINTS": "false"}


def first_start(tmp_path: Path) -> None:
    """Start a gateway once and seal a value, so the database holds a wrapped data key."""
    async def run() -> None:
        config, pm = load_config(None, environ=settings(tmp_path))
        gateway = build_gateway(config, pm)
        await gateway.store.open()
        await gateway.hooks.startup(gateway)
        sealer = await gateway.cipher.sealer("org1", None)
        assert sealer is not None
        await gateway.cipher.flush()
        await gateway.hooks.shutdown(gateway)
        await close_gateway(gateway)
    asyncio.run(run())


def serve(tmp_path: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "HYBRID_CALENDAR_NO_ENTRYPOINTS": "1", **settings(tmp_path)}
    return subprocess.run([sys.executable, "-m", "hybrid_calendar.cli", "serve"],
                          cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60)


def assert_refused(result: subprocess.CompletedProcess[str], *words: str) -> str:
    output = result.stdout + result.stderr
    assert result.returncode == 2, output
    assert "Traceback" not in output, output
    lines = [line for line in output.splitlines() if "start-up refused" in line]
    assert len(lines) == 1, output
    for word in words:
        assert word in lines[0], lines[0]
    return lines[0]


def test_missing_key_file_with_wrapped_keys_stops_start(tmp_path: Path) -> None:
    first_start(tmp_path)
    key_file = tmp_path / "data" / "kms-local.json"
    key_file.unlink()
    line = assert_refused(serve(tmp_path), str(key_file), "missing", "restore")
    assert "wrapped data keys" in line
    assert not key_file.exists(), "a new key was created where the store holds others"


def test_empty_database_stops_start(tmp_path: Path) -> None:
    (tmp_path / "data").mkdir(mode=0o700)
    database = tmp_path / "data" / "gateway.sqlite3"
    database.touch(mode=0o600)
    assert_refused(serve(tmp_path), str(database), "0 bytes", "restore")
    assert database.stat().st_size == 0


def test_damaged_database_stops_start(tmp_path: Path) -> None:
    first_start(tmp_path)
    database = tmp_path / "data" / "gateway.sqlite3"
    data = bytearray(database.read_bytes())
    page = int.from_bytes(data[16:18], "big") or 65536
    for offset in range(page, len(data), page):  # every page after the header's
        data[offset:offset + 64] = b"\xa5" * 64
    database.write_bytes(bytes(data))
    assert_refused(serve(tmp_path), str(database), "restore")
