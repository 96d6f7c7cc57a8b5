"""Store fixtures: a real SQLite file with the suite's reversible, authenticating cipher."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from hybrid_calendar.store.sqlite import SqliteStore
from hybrid_calendar.store.testing import ReversibleCipher


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[SqliteStore]:
    """An open store on a fresh file."""
    s = SqliteStore(tmp_path / "gw.sqlite3", ReversibleCipher())
    await s.open()
    try:
        yield s
    finally:
        await s.close()
