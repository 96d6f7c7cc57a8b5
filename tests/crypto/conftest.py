"""Fixtures of the envelope-layer tests: a real local KMS through the hooks, a real SQLite."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from hybrid_calendar.clock import ManualClock
from hybrid_calendar.crypto import FieldCipher, GatewayKms, KeyRepository
from hybrid_calendar.crypto.testing import SqliteRunner, build_gateway
from hybrid_calendar.gateway import Gateway

MakeCipher = Callable[..., FieldCipher]


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(datetime(2026, 11, 27, 9, 0, tzinfo=UTC))


@pytest.fixture
def gateway(tmp_path: Path, clock: ManualClock) -> Gateway:
    return build_gateway(["kms_local"], {"gateway": {"data_dir": str(tmp_path / "var")}},
                         clock=clock)


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "gateway.sqlite3"


@pytest.fixture
def runner(db_path: Path) -> Iterator[SqliteRunner]:
    runner = SqliteRunner(db_path)
    yield runner
    runner.close()


@pytest.fixture
def make_cipher(gateway: Gateway, runner: SqliteRunner, clock: ManualClock) -> MakeCipher:
    """A new FieldCipher over the same database and KMS (a "restart" when called again)."""
    def make(**options: Any) -> FieldCipher:
        return FieldCipher(GatewayKms(gateway), KeyRepository(runner), clock, **options)
    return make
