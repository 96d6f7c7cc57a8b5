"""``store backup`` and ``store restore`` (docs/operations.md), as documented and beyond.

The documented shell block runs as written; the encrypted rows of a store that is open
(its write-ahead log not yet checkpointed) come back readable after a restore; a restore
refuses while a gateway holds the data directory; a backup never overwrites a file.
"""

from __future__ import annotations

import os
import re
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from hybrid_calendar.admin.datadir_lock import DataDirectoryLock
from hybrid_calendar.admin.errors import DataDirectoryInUseError
from hybrid_calendar.backup import backup_database, restore_database
from hybrid_calendar.builder import build_gateway, close_gateway, database_path
from hybrid_calendar.cli import main
from hybrid_calendar.loading import load_config
from hybrid_calendar.models import Organisation, User, UserState

ROOT = Path(__file__).resolve().parents[2]


def documented_block(name: str) -> str:
    text = (ROOT / "docs" / "operations.md").read_text()
    match = re.search(rf"<!-- {name}:begin -->\n```sh\n(.*?)```\n<!-- {name}:end -->",
                      text, re.S)
    assert match, f"docs/operations.md lost its {name} block"
    return match.group(1)


def test_the_documented_backup_and_restore_run_as_written(tmp_path: Path) -> None:
    bin_dir = str(Path(sys.executable).parent)
    env = {**os.environ, "PATH": bin_dir + os.pathsep + os.environ["PATH"]}
    script = "set -euo pipefail\n" + documented_block("backup")
    result = subprocess.run(["bash", "-c", script], cwd=tmp_path, env=env, text=True,
                            capture_output=True, timeout=120)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert "Traceback" not in result.stdout + result.stderr
    # ops was created before the backup, `later` after it: the restore brought back ops only
    admins = [line.split("\t")[0] for line in result.stdout.splitlines() if "\t" in line]
    assert admins == ["ops"]
    backups = list((tmp_path / "backups").iterdir())
    assert len(backups) == 2  # the database and, separately, the KMS key file
    for path in backups:
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path


@pytest.mark.anyio
async def test_a_backup_of_an_open_store_restores_its_encrypted_rows(tmp_path: Path) -> None:
    config, pm = load_config(None, overrides={
        "plugins": {"enabled": ["kms_local"], "load_entrypoints": False},
        "gateway": {"data_dir": str(tmp_path / "var")}}, environ={})
    database = database_path(config)
    alice = User(id="u1", org_id="o1", email="alice@example.com", state=UserState.ACTIVE)
    bob = User(id="u2", org_id="o1", email="bob@example.com", state=UserState.ACTIVE)
    gateway = build_gateway(config, pm)
    await gateway.hooks.startup(gateway)
    await gateway.store.open()
    try:
        await gateway.store.put_organisation(Organisation("o1", "Example", "example.com"))
        await gateway.store.put_user(alice)
        assert Path(database + "-wal").stat().st_size > 0  # rows still in the log
        report = backup_database(database, tmp_path / "backup.sqlite3")
        await gateway.store.put_user(bob)
    finally:
        await close_gateway(gateway)
    assert report.migrations["core"].startswith("m")
    assert b"alice@example.com" not in (tmp_path / "backup.sqlite3").read_bytes()
    restore_database(tmp_path / "backup.sqlite3", database)
    reopened = build_gateway(config, pm)
    await reopened.store.open()
    try:
        found = await reopened.store.find_user("o1", "alice@example.com")
        assert found is not None and found.email == "alice@example.com"
        assert await reopened.store.find_user("o1", "bob@example.com") is None
    finally:
        await close_gateway(reopened)


def test_restore_refuses_while_a_gateway_holds_the_data_directory(tmp_path: Path) -> None:
    config, _pm = load_config(None, overrides={"gateway": {"data_dir": str(tmp_path)},
                                               "plugins": {"enabled": []}}, environ={})
    database = database_path(config)
    _make_gateway_database(database)
    backup = backup_database(database, tmp_path / "backup.sqlite3")
    with DataDirectoryLock(database) as lock:
        lock.acquire("127.0.0.1:8080")
        with pytest.raises(DataDirectoryInUseError, match="in use by another gateway"):
            restore_database(Path(backup.file), database)


def test_backup_refuses_an_existing_file_and_a_foreign_database(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config_file = tmp_path / "gateway.toml"
    config_file.write_text(f'[plugins]\nenabled = []\n[gateway]\ndata_dir = "{tmp_path}"\n')
    _make_gateway_database(str(tmp_path / "gateway.sqlite3"))
    existing = tmp_path / "taken.sqlite3"
    existing.write_text("keep me")
    assert main(["store", "backup", "--config", str(config_file), str(existing)]) == 2
    assert f"{existing} exists: back up to a new file" in capsys.readouterr().err
    assert existing.read_text() == "keep me"
    foreign = tmp_path / "notes.txt"
    foreign.write_text("not a database")
    assert main(["store", "restore", "--config", str(config_file), str(foreign)]) == 2
    assert "is not a SQLite database" in capsys.readouterr().err


def test_a_postgresql_configuration_is_sent_to_pg_dump(tmp_path: Path,
                                                       capsys: pytest.CaptureFixture[str]
                                                       ) -> None:
    config_file = tmp_path / "gateway.toml"
    config_file.write_text('[plugins]\nenabled = []\n[gateway]\n'
                           'database = "postgresql://gw@db.example/gateway"\n')
    assert main(["store", "backup", "--config", str(config_file), "x.sqlite3"]) == 2
    assert "back it up with pg_dump" in capsys.readouterr().err


def _make_gateway_database(database: str) -> None:
    """An empty, migrated gateway database."""
    import anyio

    config, pm = load_config(None, overrides={
        "gateway": {"database": database}, "plugins": {"enabled": []}}, environ={})

    async def create() -> None:
        gateway = build_gateway(config, pm)
        await gateway.store.open()
        await close_gateway(gateway)

    anyio.run(create)
