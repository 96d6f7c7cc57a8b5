"""`hybrid-calendar store migrate --to postgresql://…`: a SQLite deployment moves to
PostgreSQL with its data readable by the same keys, and nothing moves into a database
that already holds data."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import anyio
import psycopg
import pytest

from hybrid_calendar.builder import opened_gateway
from hybrid_calendar.cli import main
from hybrid_calendar.loading import load_config
from hybrid_calendar.models import User
from hybrid_calendar.store.postgres.store import PostgresStore
from hybrid_calendar.store.sqlite import SqliteStore
from hybrid_calendar.store.testing import NOW
from hybrid_calendar.store.testing.samples import ORG, join_button, meeting

ALICE = User(id="u1", org_id=ORG.id, email="alice@example.com")


def write_config(path: Path, data_dir: Path, database: str = "") -> Path:
    path.write_text(f'[gateway]\ndata_dir = "{data_dir}"\ndatabase = "{database}"\n'
                    '[plugins]\nenabled = ["join_info", "kms_local"]\n'
                    'load_entrypoints = false\n')
    return path


STORED = meeting("e1", user=ALICE, title="Board meeting")


async def seed(config_file: Path) -> None:
    """A SQLite deployment with real keys and one of everything."""
    config, pm = load_config(config_file, environ={})
    stored = STORED
    async with opened_gateway(config, pm) as gateway:
        assert isinstance(gateway.store, SqliteStore)
        await gateway.store.put_organisation(ORG)
        await gateway.store.put_user(ALICE)
        await gateway.store.put_org_secret(ORG.id, "google_service_account", "{\"k\": 1}")
        await gateway.store.apply_changes(ALICE, [stored], [], "cursor-7", full_sync=True,
                                          synced_at=NOW)
        await gateway.store.schedule(ALICE, [join_button("e1", user=ALICE)])
        for user in ("u1", "u2"):
            await gateway.store.enqueue("sync", f"sync:{user}", {"user_id": user}, NOW)


async def check(config_file: Path) -> None:
    """Everything readable on PostgreSQL, through the same KMS key file."""
    config, pm = load_config(config_file, environ={})
    stored = STORED
    async with opened_gateway(config, pm) as gateway:
        store = gateway.store
        assert isinstance(store, PostgresStore)
        assert await store.find_user(ORG.id, "alice@example.com") == ALICE
        assert await store.get_meeting(ALICE, "e1") == stored
        assert (await store.get_sync_state("u1")).cursor == "cursor-7"
        assert await store.get_org_secret(ORG.id, "google_service_account") == "{\"k\": 1}"
        [button] = await store.list_notifications(ALICE)
        assert button.key == join_button("e1", user=ALICE).key
        assert await store.job_counts() == {"queued": 2}
        assert await store.enqueue("sync", "sync:u3", {}, NOW + timedelta(seconds=1))
        claimed = [await store.claim(NOW + timedelta(seconds=2), 60) for _ in range(3)]
        assert len({job.id for job in claimed if job is not None}) == 3  # ids never clash


def test_a_sqlite_deployment_moves_to_postgresql(
        tmp_path: Path, postgres_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    data = tmp_path / "data"
    sqlite_config = write_config(tmp_path / "sqlite.toml", data)
    anyio.run(seed, sqlite_config)
    assert main(["store", "migrate", "--config", str(sqlite_config),
                 "--to", postgres_url]) == 0
    assert "moved" in capsys.readouterr().out
    anyio.run(check, write_config(tmp_path / "pg.toml", data, postgres_url))
    with psycopg.connect(postgres_url) as conn:
        row = conn.execute("SELECT sealed FROM meetings").fetchone()
    assert row is not None and "Board meeting" not in row[0]  # still sealed

    # Nothing moves into a database that holds data; the error is one line, exit 2.
    assert main(["store", "migrate", "--config", str(sqlite_config),
                 "--to", postgres_url]) == 2
    assert "is not empty" in capsys.readouterr().err


def test_the_source_must_be_a_sqlite_file(tmp_path: Path, postgres_url: str,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    config = write_config(tmp_path / "pg.toml", tmp_path / "data", postgres_url)
    assert main(["store", "migrate", "--config", str(config), "--to", postgres_url]) == 2
    assert "moves a SQLite database file" in capsys.readouterr().err
    missing = write_config(tmp_path / "new.toml", tmp_path / "nothing-here")
    assert main(["store", "migrate", "--config", str(missing), "--to", postgres_url]) == 2
    assert "no SQLite database" in capsys.readouterr().err
