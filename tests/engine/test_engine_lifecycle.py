"""Engine start/stop (jobs in flight finish or are re-queued) and the one retry policy."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import anyio
import anyio.lowlevel
import pytest

from hybrid_calendar.app import readiness
from hybrid_calendar.builder import build_gateway
from hybrid_calendar.clock import ManualClock
from hybrid_calendar.engine import engine as engine_module
from hybrid_calendar.engine.engine import Engine
from hybrid_calendar.engine.retries import RetryPolicy, retryable
from hybrid_calendar.errors import (
    AccessDeniedError,
    KeyManagementError,
    ProviderError,
    RateLimitError,
    TransientError,
)
from hybrid_calendar.gateway import Gateway
from hybrid_calendar.loading import load_config
from hybrid_calendar.models import Job

pytestmark = pytest.mark.anyio


@pytest.fixture
async def gateway(tmp_path: Path) -> AsyncIterator[Gateway]:
    config, pm = load_config(None, overrides={
        "plugins": {"enabled": ["kms_local"], "load_entrypoints": False},
        "gateway": {"data_dir": str(tmp_path)}, "sync": {"max_concurrency": 2}}, environ={})
    gw = build_gateway(config, pm)
    await gw.store.open()
    try:
        yield gw
    finally:
        await gw.store.close()


async def test_jobs_in_flight_finish_or_are_requeued(gateway: Gateway,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    started = anyio.Event()
    quick_started = anyio.Event()
    quick_may_finish = anyio.Event()
    finished: list[str] = []

    async def slow(gw: Gateway, job: Job) -> None:
        started.set()
        await anyio.Event().wait()  # never set: runs until cancelled
        finished.append(job.key)

    async def quick(gw: Gateway, job: Job) -> None:
        quick_started.set()
        await quick_may_finish.wait()  # still running when stop() is called
        finished.append(job.key)

    monkeypatch.setitem(engine_module.HANDLERS, "slow", slow)
    monkeypatch.setitem(engine_module.HANDLERS, "quick", quick)

    engine = Engine(gateway, grace_seconds=5)
    gateway.engine = engine
    await engine.enqueue("quick", "u1", {})
    await engine.start()
    with anyio.fail_after(5):
        await quick_started.wait()
    assert finished == []  # in flight
    async with anyio.create_task_group() as group:
        group.start_soon(engine.stop)
        await anyio.lowlevel.checkpoint()  # stop() has begun: no new job is taken
        assert finished == []
        quick_may_finish.set()  # within the grace period: finishes and is not re-queued
    assert finished == ["quick:u1"] and await gateway.store.job_counts() == {}

    engine = Engine(gateway, grace_seconds=0.2)
    gateway.engine = engine
    await engine.enqueue("slow", "u2", {})
    await engine.start()
    with anyio.fail_after(5):
        await started.wait()
    await engine.stop()  # grace period too short: the job goes back to the queue
    assert await gateway.store.job_counts() == {"queued": 1}
    assert not engine.running


async def test_until_idle_runs_what_is_due_by_the_clock_and_no_more(
        gateway: Gateway, monkeypatch: pytest.MonkeyPatch) -> None:
    ran: list[str] = []

    async def record(gw: Gateway, job: Job) -> None:
        ran.append(job.key)
        if job.key == "chain:u1":  # a job that queues another: idle waits for it too
            await engine.enqueue("record", "u2", {})

    monkeypatch.setitem(engine_module.HANDLERS, "record", record)
    monkeypatch.setitem(engine_module.HANDLERS, "chain", record)
    clock = ManualClock()
    gateway.clock = clock
    engine = Engine(gateway)
    gateway.engine = engine
    with pytest.raises(RuntimeError, match="not running"):
        await engine.until_idle()
    await engine.start()
    try:
        await engine.enqueue("chain", "u1", {})
        await engine.enqueue("record", "u3", {}, delay=timedelta(seconds=10))
        with anyio.fail_after(10):
            await engine.until_idle()
        assert ran == ["chain:u1", "record:u2"]  # u3 is not due yet
        clock.advance(timedelta(seconds=10))
        with anyio.fail_after(10):
            await engine.until_idle()
        assert ran == ["chain:u1", "record:u2", "record:u3"]
        assert await gateway.store.job_counts() == {}
    finally:
        await engine.stop()


async def test_a_stop_that_catches_workers_in_a_claim_needs_no_grace_period(
        gateway: Gateway) -> None:
    """Workers in the middle of a claim when the engine stops went to sleep after the
    stop's last wake-up, and the stop waited out its whole grace period for them (20 s on
    every shutdown that caught a claim) before cancelling them. A hang guard, not a
    timing: with an hour's grace, the broken stop trips it."""
    engine = gateway.engine = Engine(gateway, grace_seconds=3600)
    await engine.start()
    assert await gateway.store.ping()  # meanwhile the workers began their first claims
    with anyio.fail_after(30):
        await engine.stop()
    assert not engine.running


async def test_readiness_reports_each_check(gateway: Gateway) -> None:
    checks = await readiness(gateway)
    assert checks["store"] is True and checks["kms"]["healthy"] is True
    assert checks["engine"] is False and checks["ready"] is False  # engine not started
    gateway.engine = Engine(gateway)
    await gateway.engine.start()
    try:
        assert (await readiness(gateway))["ready"] is True
    finally:
        await gateway.engine.stop()
    await gateway.store.close()
    checks = await readiness(gateway)
    assert checks["store"] is False and checks["ready"] is False
    await gateway.store.open()


def test_backoff_is_capped_full_jitter_and_honours_retry_after() -> None:
    policy = RetryPolicy(max_attempts=8, base_seconds=2.0, cap_seconds=900.0)
    delays = [policy.delay(10).total_seconds() for _ in range(200)]
    assert all(0 <= d <= 900 for d in delays) and len(set(delays)) > 150
    highest = RetryPolicy(base_seconds=2.0, cap_seconds=60.0, random=lambda: 1.0)
    assert [highest.delay(n).total_seconds() for n in range(1, 7)] == [2, 4, 8, 16, 32, 60]
    lowest = RetryPolicy(random=lambda: 0.0)
    limited = RateLimitError("slow down", status=429, retry_after=7.0)
    assert lowest.delay(1, limited).total_seconds() == 7.0
    assert highest.delay(1, limited).total_seconds() == 7.0  # the longer of the two
    assert highest.delay(5, limited).total_seconds() == 32.0
    greedy = TransientError("down", status=503, retry_after=86400.0)
    assert highest.delay(1, greedy).total_seconds() == 60.0  # capped


def test_attempts_are_bounded_and_permanent_refusals_are_not_retried() -> None:
    policy = RetryPolicy(max_attempts=3)
    transient = TransientError("down", status=503)
    assert policy.retries(1, transient) and policy.retries(2, transient)
    assert not policy.retries(3, transient)
    assert retryable(RateLimitError("slow", status=429))
    assert retryable(KeyManagementError("kms unreachable")) and retryable(ValueError("bug"))
    assert retryable(ProviderError("pending", reason="conferencePending"))
    assert not retryable(ProviderError("bad request", status=400))
    assert not retryable(AccessDeniedError("no", status=403))
