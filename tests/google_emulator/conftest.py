"""Fixtures: a running emulator, Alice's Calendar client, a webhook receiver."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import httplib2
import pytest

from hybrid_calendar_google_emulator.testing import RunningEmulator, running_emulator
from tests.google_emulator.helpers import (
    ALICE,
    BOB,
    CALENDAR,
    CAROL,
    Receiver,
    calendar_service,
)


@pytest.fixture
def emu() -> Iterator[RunningEmulator]:
    """An emulator for example.com with alice, bob and carol."""
    with running_emulator(domain="example.com", users=[ALICE, BOB, CAROL],
                           fresh_key=False) as running:
        yield running


@pytest.fixture
def make_service(emu: RunningEmulator) -> Iterator[Callable[..., Any]]:
    """Build Calendar services (``make_service(user, scopes)``), closed after the test."""
    services: list[Any] = []

    def make(user: str = ALICE, scopes: tuple[str, ...] = (CALENDAR,)) -> Any:
        service = calendar_service(emu, user, scopes)
        services.append(service)
        return service

    yield make
    for service in services:
        service.close()


@pytest.fixture
def cal(make_service: Callable[..., Any]) -> Any:
    """Alice's Calendar v3 service."""
    return make_service()


@pytest.fixture
def http() -> Iterator[httplib2.Http]:
    """An httplib2 transport for google-auth refreshes, closed afterwards."""
    transport = httplib2.Http()
    yield transport
    transport.close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    """A webhook receiver on 127.0.0.1."""
    running = Receiver()
    yield running
    running.close()
