"""Engine start/stop: jobs in flight finish within the grace period or are re-queued."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import anyio
import pytest

from hybrid_calendar.app import readiness
from hybrid_calendar.builder import build_gateway
from hybrid_calendar.engine import engine as engine_module
from hybrid_calendar.engine.engine import Engine, backoff_delay
from hybrid_calendar.errors import RateLimitError
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
    finished: list[str] = []

    async def slow(gw: Gateway, job: Job) -> None:
        started.set()
        await anyio.sleep(30)
        finished.append(job.key)

    async def quick(gw: Gateway, job: Job) -> None:
        quick_started.set()
        await anyio.sleep(0.2)  # still running when stop() is called
        finished.append(job.key)

    monkeypatch.setitem(engine_module.HANDLERS, "slow", slow)
    monkeypatch.setitem(engine_module.HANDLERS, "quick", quick)

    engine = Engine(gateway, grace_seconds=2)
    gateway.engine = engine
    await engine.enqueue("quick", "u1", {})
    await engine.start()
    with anyio.fail_after(5):
        await quick_started.wait()
    assert finished == []  # in flight
    await engine.stop()  # within the grace period: the job finishes and is not re-queued
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
    delays = [backoff_delay(10).total_seconds() for _ in range(200)]
    assert all(0 <= d <= 900 for d in delays) and len(set(delays)) > 150
    limited = RateLimitError("slow down", status=429, retry_after=7.0)
    assert backoff_delay(1, limited).total_seconds() == 7.0
