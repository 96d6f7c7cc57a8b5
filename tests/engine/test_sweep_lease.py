"""Two gateway processes on one PostgreSQL database sweep as one: only the holder of the
sweep lease renews channels and reads vacation responders (``engine/sweep_lease.py``).

The first process is a served gateway whose engine runs; the second is a gateway with an
engine of its own on the same database and clock, whose sweep the test runs by hand (its
loop would do the same every ``sync.sweep_seconds``). Google's calls are counted by the
emulator.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest

from hybrid_calendar.builder import build_gateway
from hybrid_calendar.engine.engine import Engine
from hybrid_calendar.engine.sweep_lease import LEASE_INTERVALS
from hybrid_calendar.gateway import Gateway
from hybrid_calendar.loading import load_config
from hybrid_calendar_google_emulator.testing import RunningEmulator

from .conftest import ALICE, Stack, free_port, gateway_overrides, running_stack

pytestmark = pytest.mark.anyio

SWEEP_SECONDS = 3600.0
"""``sync.sweep_seconds`` of the stacks (``gateway_overrides``)."""


@pytest.fixture
async def first(emulator: RunningEmulator, tmp_path: Path, postgres_url: str
                ) -> AsyncIterator[Stack]:
    async with running_stack(emulator, tmp_path / "first", database=postgres_url) as stack:
        yield stack


@pytest.fixture
async def second(first: Stack, emulator: RunningEmulator, tmp_path: Path,
                 postgres_url: str) -> AsyncIterator[Gateway]:
    """Another process's gateway on the same database, with the first one's clock and
    KMS key (its key file: the same data directory, as a deployment gives every process
    the same key)."""
    overrides = gateway_overrides(emulator, tmp_path / "first", free_port())
    overrides["gateway"]["database"] = postgres_url
    config, pm = load_config(None, overrides=overrides, environ={})
    gateway = build_gateway(config, pm, clock=first.clock)
    await gateway.store.open()
    gateway.engine = Engine(gateway)
    try:
        yield gateway
    finally:
        await gateway.aclose()
        await gateway.store.close()


def vacation_reads(stack: Stack) -> int:
    return len(stack.calls(ALICE, contains="/settings/vacation"))


async def test_only_the_lease_holder_reads_each_vacation_responder(
        first: Stack, second: Gateway) -> None:
    assert first.gateway.config.get("sync", "sweep_seconds") == SWEEP_SECONDS
    await first.activate(ALICE)  # the first engine swept at its start: it holds the lease
    poll = timedelta(minutes=float(first.gateway.config.get("presence", "poll_minutes")))
    assert second.engine is not None
    first.clock.advance(poll + timedelta(minutes=1))  # every user's presence is due
    before = vacation_reads(first)

    swept = [await first.engine.sweep_lease.sweep(first.gateway),
             await second.engine.sweep_lease.sweep(second)]

    assert vacation_reads(first) - before == 1  # one read, not one per process
    assert swept == [True, False]


async def test_the_lease_passes_on_when_its_holder_stops_sweeping(
        first: Stack, second: Gateway) -> None:
    await first.activate(ALICE)
    assert second.engine is not None
    assert not await second.engine.sweep_lease.sweep(second)
    # the first process stops renewing (it died, or it is stuck): its lease lapses
    first.clock.advance(timedelta(seconds=LEASE_INTERVALS * SWEEP_SECONDS + 1))
    before = vacation_reads(first)

    swept = [await second.engine.sweep_lease.sweep(second),
             await first.engine.sweep_lease.sweep(first.gateway)]

    assert vacation_reads(first) - before == 1  # the new holder read it, once
    assert swept == [True, False]


async def test_only_the_lease_holder_renews_an_expiring_channel(
        first: Stack, second: Gateway) -> None:
    await first.activate(ALICE)
    assert second.engine is not None
    for gateway in (first.gateway, second):  # renew below 8 days: the 7-day channel is due
        gateway.config = gateway.config.replace("sync", channel_renew_before_hours=192)
    watches = len(first.calls(ALICE, "POST", "/events/watch"))

    swept = [await first.engine.sweep_lease.sweep(first.gateway),
             await second.engine.sweep_lease.sweep(second)]

    assert len(first.calls(ALICE, "POST", "/events/watch")) - watches == 1
    assert len(await first.gateway.store.list_channels(
        user_id=first.user_ids[ALICE])) == 1
    assert swept == [True, False]


async def test_a_stopping_holder_gives_the_lease_up_for_the_next_sweep(
        first: Stack, second: Gateway) -> None:
    await first.activate(ALICE)
    assert second.engine is not None and first.engine.sweep_lease.held
    assert not await second.engine.sweep_lease.sweep(second)
    poll = timedelta(minutes=float(first.gateway.config.get("presence", "poll_minutes")))
    first.clock.advance(poll + timedelta(minutes=1))  # well inside the lease: no lapse
    before = vacation_reads(first)

    await first.engine.stop()  # a clean stop (a rolling restart)

    assert not first.engine.sweep_lease.held
    assert await second.engine.sweep_lease.sweep(second)  # at its next sweep, no gap
    assert vacation_reads(first) - before == 1
