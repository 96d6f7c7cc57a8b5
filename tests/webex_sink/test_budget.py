"""The per-organisation Webex rate budget: every call waits for it, and processes sharing
a database share it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest

from hybrid_calendar.builder import opened_gateway
from hybrid_calendar.clock import ManualClock
from hybrid_calendar.gateway import Gateway
from hybrid_calendar.loading import load_config
from hybrid_calendar.store.budget import SharedBudget
from hybrid_calendar_webex.budget import RateBudget
from hybrid_calendar_webex.context import context

from ..engine.conftest import Stack
from .conftest import ALICE, WebexWorld, at

pytestmark = pytest.mark.anyio


class FakeTime:
    """A monotonic clock that only moves when someone sleeps."""

    def __init__(self, clock: ManualClock | None = None) -> None:
        self.now = 0.0
        self.clock = clock

    def monotonic(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.now += seconds
        if self.clock is not None:
            self.clock.advance(timedelta(seconds=seconds))


async def test_a_third_call_in_a_minute_waits_for_the_window() -> None:
    time = FakeTime()
    budget = RateBudget(2, monotonic=time.monotonic, sleep=time.sleep)
    for _ in range(3):
        await budget.acquire("org1")
    assert budget.taken == 3 and budget.waited_seconds == pytest.approx(60.0)
    await budget.acquire("org2")  # another organisation has its own budget
    assert budget.waited_seconds == pytest.approx(60.0)


@pytest.fixture
async def gateway(tmp_path: Path) -> AsyncIterator[Gateway]:
    config, pm = load_config(None, overrides={
        "plugins": {"enabled": ["kms_local"], "load_entrypoints": False},
        "gateway": {"data_dir": str(tmp_path)}}, environ={})
    async with opened_gateway(config, pm) as gateway:
        yield gateway


async def test_processes_sharing_a_database_share_the_budget(gateway: Gateway) -> None:
    clock = ManualClock()
    time = FakeTime(clock)

    def shared(org_id: str) -> SharedBudget:
        return SharedBudget(gateway.store, f"webex:{org_id}", 2, now=clock.now,
                            sleep=time.sleep)

    first, second = (RateBudget(2, monotonic=time.monotonic, sleep=time.sleep,
                                shared=shared) for _ in range(2))
    await first.acquire("org1")
    await first.acquire("org1")
    assert time.now == 0.0
    await second.acquire("org1")  # its own window is empty, the shared one is full
    assert time.now >= 60.0


async def test_every_webex_call_of_a_keyword_passes_the_budget(world: WebexWorld,
                                                               stack: Stack) -> None:
    world.google.state.insert_event(ALICE, at(3, summary="Counted",
                                              location="@webex:onetime"))
    await stack.activate(ALICE)
    ctx = context(stack.gateway)
    sent = len([r for r in world.webex.state.request_log])
    assert ctx.budget.taken == sent > 0


async def test_hook_report_quota_counts_every_webex_call_of_the_organisation(
        world: WebexWorld, stack: Stack) -> None:
    world.google.state.insert_event(ALICE, at(3, summary="Counted",
                                              location="@webex:onetime"))
    await stack.activate(ALICE)
    sent = len(world.webex.state.request_log)
    uses = await stack.gateway.hooks.report_quota(stack.gateway, "org1")
    [webex] = [u for u in uses if u.name == "webex requests/min"]
    assert (webex.used, webex.limit, webex.window_seconds) == (sent, 300, 60.0)
    assert sent > 0
    assert [u for u in await stack.gateway.hooks.report_quota(stack.gateway, "nope")
            if u.name.startswith("webex")] == []


async def test_processes_sharing_a_database_report_the_shared_budget(
        gateway: Gateway) -> None:
    clock = ManualClock()
    time = FakeTime(clock)

    def shared(org_id: str) -> SharedBudget:
        return SharedBudget(gateway.store, f"webex:{org_id}", 5, now=clock.now,
                            sleep=time.sleep)

    first, second = (RateBudget(5, monotonic=time.monotonic, sleep=time.sleep,
                                shared=shared) for _ in range(2))
    for _ in range(3):
        await first.acquire("org1")
    await second.acquire("org1")
    for budget in (first, second):  # each reads what both took, from the store
        use = await budget.quota_use("org1")
        assert (use.name, use.used, use.limit, use.window_seconds) == (
            "webex requests/min", 4, 5, 60.0)
    alone = RateBudget(5, monotonic=time.monotonic, sleep=time.sleep)
    await alone.acquire("org1")  # without a shared budget: this process's window
    assert (await alone.quota_use("org1")).used == 1
    time.now += 61.0
    assert (await alone.quota_use("org1")).used == 0
