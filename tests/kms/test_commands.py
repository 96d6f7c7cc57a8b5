"""``kms rotate`` / ``kms status``: real CLI, real database, next to a writing gateway."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import anyio
import anyio.lowlevel
import pytest

from hybrid_calendar.builder import build_gateway
from hybrid_calendar.cli import main
from hybrid_calendar.crypto.commands import rotate_command
from hybrid_calendar.loading import load_config


@pytest.fixture
def config_file(tmp_path: Path) -> Path:
    path = tmp_path / "gateway.toml"
    path.write_text(f'[gateway]\ndata_dir = "{tmp_path / "var"}"\n\n'
                    '[plugins]\nenabled = ["kms_local"]\nload_entrypoints = false\n')
    return path


async def write_rows(config_file: Path, count: int, started: anyio.Event | None = None,
                     offset: int = 0) -> list[tuple[str, str]]:
    """Seal and store ``count`` rows through a gateway built like ``serve`` builds it."""
    config, pm = load_config(config_file, environ={})
    gateway = build_gateway(config, pm)
    await gateway.store.open()
    cipher = gateway.cipher
    written = []
    try:
        for i in range(offset, offset + count):
            sealer = await cipher.sealer("org", f"user-{i % 4}")
            token = sealer.seal(f"title {i}", table="kms_test", row_id=str(i), column="title")

            def insert(db: Any, i: int = i, token: str = token) -> None:
                db["kms_test"].insert({"id": i, "user": f"user-{i % 4}", "title": token},
                                      pk="id")
            await gateway.store.call(insert)
            written.append((str(i), f"user-{i % 4}"))
            if started is not None and i == offset + 5:
                started.set()
            await anyio.lowlevel.checkpoint()
    finally:
        await cipher.aclose()
        await gateway.store.close()
    return written


async def read_all(config_file: Path) -> dict[str, str]:
    config, pm = load_config(config_file, environ={})
    gateway = build_gateway(config, pm)
    await gateway.store.open()
    cipher = gateway.cipher
    try:
        rows = await gateway.store.call(lambda db: list(db["kms_test"].rows))
        result = {}
        for row in rows:
            sealer = await cipher.sealer("org", row["user"])
            result[str(row["id"])] = sealer.open(row["title"], table="kms_test",
                                                 row_id=str(row["id"]), column="title")
        return result
    finally:
        await cipher.aclose()
        await gateway.store.close()


@pytest.mark.anyio
async def test_rotate_while_a_gateway_writes_loses_nothing(config_file: Path) -> None:
    await write_rows(config_file, 10)
    started = anyio.Event()
    reports: list[dict[str, Any]] = []
    written: list[list[tuple[str, str]]] = []
    finished: list[str] = []

    async def writer() -> None:
        written.append(await write_rows(config_file, 200, started, offset=10))
        finished.append("writer")

    async def rotator() -> None:
        await started.wait()
        reports.append(await rotate_command(str(config_file)))
        finished.append("rotator")

    async with anyio.create_task_group() as tg:
        tg.start_soon(writer)
        tg.start_soon(rotator)
    assert reports[0]["key_ref"] == "kek-v2" and reports[0]["failed"] == 0
    assert reports[0]["rewrapped"] >= 5  # 4 user keys + the index key
    clear = await read_all(config_file)
    assert clear == {str(i): f"title {i}" for i in range(210)}
    assert finished == ["rotator", "writer"]  # the rotation ran while rows were written


def test_cli_status_and_rotate(config_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    anyio.run(write_rows, config_file, 3)
    assert main(["kms", "status", "--config", str(config_file)]) == 0
    status = json.loads(capsys.readouterr().out)
    assert status["healthy"] and status["current_key_ref"] == "kek-v1"
    assert status["stored_keys_by_key_ref"] == {"kek-v1": 4}  # 3 users + index key
    assert main(["kms", "rotate", "--config", str(config_file)]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["key_ref"] == "kek-v2" and report["rewrapped"] == 4
    assert main(["kms", "status", "--config", str(config_file)]) == 0
    assert json.loads(capsys.readouterr().out)["stored_keys_by_key_ref"] == {"kek-v2": 4}
    assert anyio.run(read_all, config_file) == {"0": "title 0", "1": "title 1",
                                                "2": "title 2"}


def test_cli_status_reports_refused_key_file(config_file: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    anyio.run(write_rows, config_file, 1)
    (config_file.parent / "var" / "kms-local.json").chmod(0o644)
    assert main(["kms", "status", "--config", str(config_file)]) == 1
    status = json.loads(capsys.readouterr().out)
    assert not status["healthy"] and "chmod 600" in status["reason"]
