"""A job queued in a lane the engine is running wakes nobody while the lane is held; once
the lane's job finishes and its worker takes another job, an idle worker takes it (no
waiting for the idle poll)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import anyio
import pytest

from hybrid_calendar.builder import build_gateway
from hybrid_calendar.clock import ManualClock
from hybrid_calendar.engine import engine as engine_module
from hybrid_calendar.engine.engine import Engine
from hybrid_calendar.gateway import Gateway
from hybrid_calendar.loading import load_config
from hybrid_calendar.models import Job

pytestmark = pytest.mark.anyio


@pytest.fixture
async def gateway(tmp_path: Path) -> AsyncIterator[Gateway]:
    config, pm = load_config(None, overrides={
        "plugins": {"enabled": ["kms_local"], "load_entrypoints": False},
        "gateway": {"data_dir": str(tmp_path)}, "sync": {"max_concurrency": 3}}, environ={})
    gw = build_gateway(config, pm, clock=ManualClock())
    await gw.store.open()
    try:
        yield gw
    finally:
        await gw.store.close()


async def test_a_job_queued_in_a_held_lane_runs_once_the_lane_is_free(
        gateway: Gateway, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(engine_module, "IDLE_POLL_SECONDS", 60.0)  # no idle look here
    release = {user: anyio.Event() for user in ("u", "w", "x")}
    started = {user: anyio.Event() for user in ("u", "w", "x")}
    follow_up = anyio.Event()
    engine = Engine(gateway, grace_seconds=1)
    gateway.engine = engine

    async def hold(gw: Gateway, job: Job) -> None:
        user = job.key.split(":")[1]
        started[user].set()
        await release[user].wait()
        if user == "u":  # queued while this job holds u's lane
            await engine.enqueue("follow", "u", {"user_id": "u"})

    async def follow(gw: Gateway, job: Job) -> None:
        follow_up.set()

    monkeypatch.setitem(engine_module.HANDLERS, "hold", hold)
    monkeypatch.setitem(engine_module.HANDLERS, "follow", follow)
    clock = gateway.clock
    assert isinstance(clock, ManualClock)
    await engine.start()
    try:
        # due in 10 s: queued before the follow-up, so u's worker will take it first
        await engine.enqueue("hold", "x", {"user_id": "x"}, delay=timedelta(seconds=10))
        with anyio.fail_after(5):
            await engine.until_idle()  # every worker asleep, no claim in flight
        for user in ("w", "u"):  # two of the three workers busy
            await engine.enqueue("hold", user, {"user_id": user})
            with anyio.fail_after(5):
                await started[user].wait()
        clock.advance(timedelta(seconds=10))  # x due now; nobody is woken by time
        release["u"].set()  # u's job queues its follow-up, finishes, and its worker
        with anyio.fail_after(5):  # takes x's job, which holds it
            await started["x"].wait()
            await follow_up.wait()  # the idle third worker was woken for the follow-up
    finally:
        for event in release.values():
            event.set()
        await engine.stop()
