"""``Store.hold_lease``'s default for a store that shares its database but does not
implement leases: every process sweeps, as before leases existed, and the store says so
once (it must not stop the sweep: channels would expire unrenewed)."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import ClassVar

import pytest

from hybrid_calendar.store.sqlite import SqliteStore
from hybrid_calendar.store.testing import NOW, ReversibleCipher

pytestmark = pytest.mark.anyio


class SharedWithoutLeases(SqliteStore):
    """A store that declares a shared database and keeps the base class's hold_lease."""

    shares_database: ClassVar[bool] = True


async def test_a_shared_store_without_leases_sweeps_everywhere_and_says_so_once(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    store = SharedWithoutLeases(tmp_path / "gw.sqlite3", ReversibleCipher())
    with caplog.at_level(logging.WARNING, logger="hybrid_calendar.store.base"):
        held = [await store.hold_lease("sweep", holder, NOW, 60) for holder in "abc"]
    assert held == [True, True, True]
    warnings = [r for r in caplog.records if "does not implement hold_lease" in r.message]
    assert len(warnings) == 1, caplog.text
    assert "SharedWithoutLeases" in warnings[0].getMessage()
