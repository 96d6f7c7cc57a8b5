"""The engine's job machinery: a running job keeps its lease while the local data directory
is unwritable, and a request queued during a failing run waits for its retry."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import timedelta
from pathlib import Path

import anyio
import pytest

from hybrid_calendar.builder import build_gateway
from hybrid_calendar.engine import engine as engine_module
from hybrid_calendar.engine.engine import Engine
from hybrid_calendar.gateway import Gateway
from hybrid_calendar.loading import load_config
from hybrid_calendar.models import Job

pytestmark = pytest.mark.anyio


@asynccontextmanager
async def process(data_dir: Path, database: str, **sync: object
                  ) -> AsyncIterator[Gateway]:
    """One gateway process (store and engine, not started) on ``database``."""
    data_dir.mkdir(parents=True, exist_ok=True)
    config, pm = load_config(None, overrides={
        "plugins": {"enabled": ["kms_local"], "load_entrypoints": False},
        "gateway": {"data_dir": str(data_dir), "database": database},
        "sync": {"max_concurrency": 2, "sweep_seconds": 3600.0, **sync}}, environ={})
    gateway = build_gateway(config, pm)
    await gateway.store.open()
    gateway.engine = Engine(gateway, grace_seconds=1)
    try:
        yield gateway
    finally:
        if gateway.engine.running:
            await gateway.engine.stop()
        await gateway.store.close()


def long_job(release: anyio.Event, started: anyio.Event
             ) -> tuple[Callable[[Gateway, Job], object], list[int]]:
    """A handler that runs until ``release`` is set (``started`` set as it starts), and
    how many runs are in flight each time one starts."""
    running: list[int] = []
    in_flight = 0

    async def handler(gateway: Gateway, job: Job) -> None:
        nonlocal in_flight
        in_flight += 1
        running.append(in_flight)
        started.set()
        try:
            await release.wait()
        finally:
            in_flight -= 1

    return handler, running


async def test_a_job_keeps_its_lease_while_the_local_data_directory_is_unwritable(
        tmp_path: Path, postgres_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Several processes on PostgreSQL: one whose local data directory stops taking
    writes (its disk full, its volume gone) rightly claims nothing more, but the jobs it
    is running go on, against the database. Their heartbeat stopped with the claims, so
    once ``sync.lease_seconds`` passed another process took the same job and ran it a
    second time, concurrently (two syncs of one user at once)."""
    release, started = anyio.Event(), anyio.Event()
    handler, running = long_job(release, started)
    monkeypatch.setitem(engine_module.HANDLERS, "long", handler)
    async with process(tmp_path / "a", postgres_url, lease_seconds=1.0) as first, \
            process(tmp_path / "b", postgres_url, lease_seconds=1.0) as second:
        assert first.engine is not None and second.engine is not None
        await first.engine.start()
        await first.engine.enqueue("long", "u1", {"user_id": "u1"})
        with anyio.fail_after(10):
            await started.wait()
        os.rename(tmp_path / "a", tmp_path / "a-unmounted")  # the volume goes away, and
        (tmp_path / "a").write_text("")  # a file in its place: nothing makes it again
        assert not await first.engine.check_storage()  # tripped: no more claims here
        await second.engine.start()
        await anyio.sleep(3.0)  # three leases long: the first process is alive throughout
        try:
            assert running == [1], "the job ran again in another process while running"
        finally:
            release.set()


async def test_a_request_queued_during_a_failing_run_waits_for_its_retry(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A sync that fails on a rate limit (Retry-After 120 s) while a push notification
    queues a newer sync of the same user: the failed run merges into the newer request,
    which was due at once (the earlier of the two) and counted no attempt. So each attempt
    that met a push ran again at once, Retry-After unheeded, and the attempt count never
    grew: ``sync.job_max_attempts`` no longer bounded the calls (a busy calendar under a
    project-wide quota exhaustion retries as fast as its pushes come)."""
    from hybrid_calendar.clock import ManualClock
    from hybrid_calendar.errors import RateLimitError

    runs: list[int] = []

    async def rate_limited(gateway: Gateway, job: Job) -> None:
        runs.append(job.attempts)
        if len(runs) < 3:  # a push arrives while the call is in flight
            assert gateway.engine is not None
            await gateway.engine.enqueue("limited", "u1", {"user_id": "u1"})
        raise RateLimitError("HTTP 429", status=429, retry_after=120)

    monkeypatch.setitem(engine_module.HANDLERS, "limited", rate_limited)
    async with process(tmp_path / "a", str(tmp_path / "a" / "gw.sqlite3"),
                       job_max_attempts=3) as gateway:
        assert gateway.engine is not None
        clock = gateway.clock = ManualClock()
        await gateway.engine.start()
        await gateway.engine.enqueue("limited", "u1", {"user_id": "u1"})
        with anyio.fail_after(10):
            await gateway.engine.until_idle()
        assert runs == [1], "ran again before the Retry-After the provider asked for"
        for _ in range(20):  # far past every retry
            clock.advance(timedelta(seconds=121))
            with anyio.fail_after(10):
                await gateway.engine.until_idle()
        assert len(runs) == 3, "more calls than sync.job_max_attempts"
        assert await gateway.store.job_counts() == {"parked": 1}


async def test_a_stop_whose_store_fails_still_stops(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        caplog: pytest.LogCaptureFixture) -> None:
    """The database went first (it was shut down before the gateway): the shutdown cannot
    put its interrupted job back, says so, and the engine stops all the same."""
    release, started = anyio.Event(), anyio.Event()
    handler, _running = long_job(release, started)
    monkeypatch.setitem(engine_module.HANDLERS, "long", handler)
    async with process(tmp_path, str(tmp_path / "gateway.sqlite3")) as gateway:
        assert gateway.engine is not None
        await gateway.engine.start()
        await gateway.engine.enqueue("long", "u1", {"user_id": "u1"})
        with anyio.fail_after(10):
            await started.wait()
        await gateway.store.close()  # the database is gone
        with anyio.fail_after(10):
            await gateway.engine.stop()  # the job in flight is cancelled after the grace
        assert not gateway.engine.running
        assert "1 job(s) interrupted by shutdown not re-queued now" in caplog.text
        await gateway.store.open()
        assert await gateway.store.requeue_running() == 1  # the next start puts it back
