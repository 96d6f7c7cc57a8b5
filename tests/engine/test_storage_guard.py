"""A data directory that takes no writes (disk full, read-only) stops the engine's work,
``/readyz`` and one log line say why, and work resumes without loss once writes work.

``make chaos`` checks the same on a real full file system and a real ``chmod 0555``
(tests/chaos/storage.py); here the probe meets a data directory in which its file cannot
be written (a directory sits where it would go), which fails the same way for root too.
"""

from __future__ import annotations

import asyncio
import errno
import logging
import sqlite3
from pathlib import Path

import pytest

from hybrid_calendar.engine.storage import PROBE_NAME, storage_problem
from hybrid_calendar.errors import StoreError

from .conftest import ALICE, Stack
from .test_gateway_with_emulator import at


def full_database_error(path: Path) -> sqlite3.OperationalError:
    """The error SQLite raises when the database may not grow (a real SQLITE_FULL)."""
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE t (x BLOB)")
    conn.commit()
    conn.execute("PRAGMA max_page_count = 3")
    try:
        conn.execute("INSERT INTO t VALUES (?)", (b"\0" * 65536,))
    except sqlite3.OperationalError as err:
        return err
    finally:
        conn.close()
    raise AssertionError("SQLite accepted a row beyond max_page_count")


def test_storage_problem_reads_real_write_refusals(tmp_path: Path) -> None:
    full = full_database_error(tmp_path / "full.sqlite3")
    assert storage_problem(full) == "SQLite: database or disk is full"
    try:
        raise StoreError("could not store the sync") from full
    except StoreError as wrapped:
        assert storage_problem(wrapped) == "SQLite: database or disk is full"
    assert storage_problem(OSError(errno.ENOSPC, "full")) == \
        "No space left on device (OSError)"
    assert storage_problem(PermissionError(errno.EACCES, "denied")) == \
        "Permission denied (PermissionError)"
    assert storage_problem(RuntimeError("database or disk is full")) is None
    assert storage_problem(sqlite3.IntegrityError("UNIQUE constraint failed")) is None


@pytest.mark.anyio
async def test_unwritable_data_directory_stops_work_and_resumes_without_loss(
        stack: Stack, caplog: pytest.LogCaptureFixture) -> None:
    await stack.activate(ALICE)
    engine = stack.engine
    directory = engine.storage.directory
    assert directory is not None
    blocker = directory / PROBE_NAME
    blocker.mkdir()  # the probe's file cannot be written: the directory takes no writes
    with caplog.at_level(logging.INFO, logger="hybrid_calendar.engine.storage"):
        assert await engine.check_storage() is False
        assert await engine.check_storage() is False  # still tripped: no second line
    tripped = [r for r in caplog.records if "storage unavailable" in r.getMessage()]
    assert len(tripped) == 1 and str(directory) in tripped[0].getMessage()

    ready = await stack.admin.get("/readyz")
    assert ready.status_code == 503
    storage = ready.json()["storage"]
    assert storage["healthy"] is False and PROBE_NAME in storage["reason"]

    calls_before = len(stack.emu.state.request_log)
    created = stack.emu.state.insert_event(ALICE, at(5, summary="Made while stopped"))
    assert await asyncio.to_thread(stack.emu.state.push.wait_idle, 10)
    assert (await stack.gateway.store.job_counts()).get("queued", 0) == 0
    assert not await engine.request_sync(stack.user_ids[ALICE], "test")
    assert len(stack.emu.state.request_log) == calls_before, "no Google call while stopped"

    blocker.rmdir()
    assert await engine.check_storage() is True
    await stack.idle()
    assert (await stack.admin.get("/readyz")).status_code == 200
    titles = [m["title"] for m in await stack.meetings(ALICE)]
    assert "Made while stopped" in titles, created["id"]
