"""Several engines on one PostgreSQL database, as several gateway processes would be (each
engine has a gateway and a store of its own, so ``NOTIFY`` travels between them as
between processes): who claims, and how often.

* Idle, each engine claims once per poll tick (one idle worker looks; the others wait to
  be woken), not once per idle worker.
* A job queued by an engine with an idle worker is claimed by that worker alone: no
  other engine is woken for it (no ``NOTIFY``), and no claim finds nothing.
* When the queuing engine has no idle worker, the others are told and take the jobs.
* When the queuing engine dies between its commit and its worker's claim, another
  engine's poll tick finds the job.

Claims are counted by the server (``pg_stat_statements``, on a server of this module's
own), split into those that found a job and those that found nothing.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import anyio
import psycopg
import pytest

from hybrid_calendar.builder import build_gateway
from hybrid_calendar.engine import engine as engine_module
from hybrid_calendar.engine.engine import Engine
from hybrid_calendar.gateway import Gateway
from hybrid_calendar.loading import load_config
from hybrid_calendar.models import Job
from hybrid_calendar.store.postgres.local_server import LocalPostgres
from tests.postgres_server import statement_counting_server

pytestmark = pytest.mark.anyio

CLAIM_PREFIX = "WITH next AS (SELECT id FROM jobs"
ENGINES = 3


@pytest.fixture(scope="module")
def counting_server() -> Iterator[LocalPostgres]:
    with statement_counting_server() as server:
        yield server


@pytest.fixture
def database(counting_server: LocalPostgres, request: pytest.FixtureRequest) -> str:
    """A fresh database for the test, with its statements counted from zero."""
    name = "wake_" + request.node.name.removeprefix("test_")[:50]
    with psycopg.connect(counting_server.url, autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    return counting_server.database_url(name)


def claims(url: str) -> tuple[int, int]:
    """(plain claims that found a job, plain claims that found nothing) on ``url``'s
    database so far (a worker's finish-and-claim is not a plain claim)."""
    server, name = url.rsplit("/", 1)
    with psycopg.connect(f"{server}/postgres", autocommit=True) as conn:
        row = conn.execute(
            "SELECT coalesce(sum(calls), 0), coalesce(sum(rows), 0) FROM pg_stat_statements s"
            " JOIN pg_database d ON d.oid = s.dbid WHERE d.datname = %s AND"
            " s.query LIKE %s", (name, CLAIM_PREFIX + "%")).fetchone()
    assert row is not None
    calls, found = int(row[0]), int(row[1])
    return found, calls - found


@contextlib.asynccontextmanager
async def engines(tmp_path: Path, url: str, workers: int) -> AsyncIterator[list[Engine]]:
    """:data:`ENGINES` running engines on database ``url``, stopped on exit."""
    gateways: list[Gateway] = []
    running: list[Engine] = []
    try:
        for index in range(ENGINES):
            (tmp_path / f"p{index}").mkdir()
            config, pm = load_config(None, overrides={
                "plugins": {"enabled": ["kms_local"], "load_entrypoints": False},
                "gateway": {"data_dir": str(tmp_path / f"p{index}"), "database": url},
                "sync": {"max_concurrency": workers}}, environ={})
            gateway = build_gateway(config, pm)
            await gateway.store.open()
            gateways.append(gateway)
        for gateway in gateways:
            gateway.engine = Engine(gateway, grace_seconds=1)
            await gateway.engine.start()
            running.append(gateway.engine)
        with anyio.fail_after(10):
            for engine in running:  # each hears the others' NOTIFYs from here on
                await engine.listening.wait()
        yield running
    finally:
        for engine in running:
            await engine.stop()
        for gateway in gateways:
            await gateway.store.close()


def kill(engine: Engine) -> None:
    """What SIGKILL does to a process's engine: none of its tasks runs another step (a
    worker woken but not yet claiming never claims). Its store is closed at the end."""
    for task in engine._tasks:
        task.cancel()
    if engine._listener is not None:
        engine._listener.cancel()


async def test_idle_engines_claim_once_per_poll_tick_each(
        tmp_path: Path, database: str, monkeypatch: pytest.MonkeyPatch) -> None:
    poll = 0.1
    monkeypatch.setattr(engine_module, "IDLE_POLL_SECONDS", poll)
    async with engines(tmp_path, database, workers=4):
        before = sum(claims(database))
        started = time.monotonic()
        await anyio.sleep(1.0)  # idle time is what is measured here
        elapsed = time.monotonic() - started
        during = sum(claims(database)) - before
    ticks = elapsed / poll
    # four idle workers each looking every tick would make 4 × 3 × ticks ≈ 120 claims
    assert during <= ENGINES * (ticks + 2), (during, ticks)


async def test_a_job_queued_where_a_worker_is_idle_is_claimed_there_alone(
        tmp_path: Path, database: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(engine_module, "IDLE_POLL_SECONDS", 60.0)  # no tick in this test
    ran: dict[str, Engine] = {}
    finished = {f"u{i}": anyio.Event() for i in range(10)}

    async def record(gw: Gateway, job: Job) -> None:
        ran[job.key] = gw.engine  # type: ignore[assignment]
        finished[job.key.split(":")[1]].set()

    monkeypatch.setitem(engine_module.HANDLERS, "record", record)
    async with engines(tmp_path, database, workers=4) as (first, *_others):
        for user, done in finished.items():
            await first.enqueue("record", user, {})
            with anyio.fail_after(10):
                await done.wait()
    found, empty = claims(database)
    assert set(ran.values()) == {first}  # nobody else was woken to take them
    # one claim per job (its woken worker's; should the worker that ran the job before
    # take it first with its finish-and-claim, that claim finds nothing), and each
    # engine's first look at start and its listener's first wake-up; waking a worker of
    # every engine for every job (and the queuing one's twice) made 4 per job
    assert found + empty <= len(finished) + 2 * ENGINES, (found, empty)


async def test_jobs_beyond_the_queuing_engines_idle_workers_go_to_the_others(
        tmp_path: Path, database: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(engine_module, "IDLE_POLL_SECONDS", 60.0)  # only NOTIFY wakes
    workers = 2
    jobs = workers * ENGINES
    started: dict[str, Engine] = {}
    all_started = anyio.Event()

    async def gather(gw: Gateway, job: Job) -> None:
        started[job.key] = gw.engine  # type: ignore[assignment]
        if len(started) == jobs:
            all_started.set()
        await all_started.wait()  # every job runs at once: every engine's workers

    monkeypatch.setitem(engine_module.HANDLERS, "gather", gather)
    async with engines(tmp_path, database, workers=workers) as running:
        for index in range(jobs):
            await running[0].enqueue("gather", f"u{index}", {})
        with anyio.fail_after(10):
            await all_started.wait()
    assert sorted(list(started.values()).count(engine) for engine in running) == \
        [workers] * ENGINES


async def test_a_job_whose_engine_dies_before_claiming_it_is_claimed_by_another(
        tmp_path: Path, database: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(engine_module, "IDLE_POLL_SECONDS", 0.2)
    ran: list[Engine] = []
    done = anyio.Event()

    async def record(gw: Gateway, job: Job) -> None:
        ran.append(gw.engine)  # type: ignore[arg-type]
        done.set()

    monkeypatch.setitem(engine_module.HANDLERS, "record", record)
    async with engines(tmp_path, database, workers=2) as (victim, *others):
        await victim.enqueue("record", "u1", {})  # committed; its idle worker woken...
        kill(victim)  # ...but the process dies before that worker's claim
        with anyio.fail_after(10):
            await done.wait()
        assert ran == [ran[0]] and ran[0] in others
        with anyio.fail_after(10):
            await ran[0].until_idle()  # its worker deletes the finished job
        assert await ran[0].gateway.store.job_counts() == {}
