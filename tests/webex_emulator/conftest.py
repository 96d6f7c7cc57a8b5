"""Fixtures: a running Webex emulator, an admin's and Alice's clients, a webhook receiver."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from hybrid_calendar_webex_emulator.testing import RunningWebexEmulator, running_webex_emulator
from tests.webex_emulator.helpers import ALICE, BOB, CAROL, Receiver


@pytest.fixture
def emu() -> Iterator[RunningWebexEmulator]:
    """An emulator for example.com with alice, bob, carol and two workspaces."""
    with running_webex_emulator(users=[ALICE, BOB, CAROL], workspaces=2,
                                random_seed=7) as running:
        yield running


@pytest.fixture
def http(emu: RunningWebexEmulator) -> Iterator[httpx.Client]:
    """A raw httpx client on the emulator's base URL."""
    with httpx.Client(base_url=emu.base_url) as client:
        yield client


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    """A webhook receiver on 127.0.0.1."""
    running = Receiver()
    yield running
    running.close()
