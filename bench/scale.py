"""Scale-out: N users × M events synced by gateway processes on SQLite and PostgreSQL.

Each run starts real ``hybrid-calendar serve`` processes against the Google emulator
(its own process, seeded once, quotas off) and a fresh database, activates every user
through the admin API and times until the job queue is empty: activation, full sync,
encryption and storage of every event, channels. Runs:

* ``sqlite`` — one process on its embedded SQLite file;
* ``pg-1``, ``pg-2``, ``pg-3`` — one, two and three processes on one PostgreSQL
  database (a local server started for the run, with ``fsync`` on like SQLite's
  ``synchronous=FULL``).

Events/s is the stored meetings over the elapsed time. CPU is reported next to it (the
gateways' own CPU seconds, their event loops' threads alone, the PostgreSQL server's, and
the machine's busy share: a loop near a whole core bounds its process), because
on a 2-core machine more processes cannot add throughput once the cores are full; the
ratio shows where it went. The last line is ``scale: sqlite X, pg-1 Y, pg-2 Z, pg-3 W events/s``.

Every run is repeated ``--rounds`` times (default 3), the order rotated each round so
that no run always goes first, each on a fresh database; each run's figure is the median
of its rounds (a run moves by ±10 % on this machine from one minute to the next).

The default size is 1,000 users × 50 events, the size of the end-to-end targets
(``bench/sync.py --end-to-end``): each run then lasts 5–8 s. At 200 users a run lasts
1.1–1.7 s, and what every run pays once (new connections and their first statements, the
server's first plans, eight workers ramping up and down, the 50-ms poll of the queue)
weighs several times as much: PostgreSQL's share of it is larger, so the ratio reads
0.74–0.81 at 200 users where it reads 0.83–0.95 at 1,000 (docs/scaling.md).

    .venv/bin/python bench/scale.py                       # 1,000 users × 50 events, 3 rounds
    .venv/bin/python bench/scale.py --users 50 --events 20 --runs sqlite,pg-1 --rounds 1
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import psycopg

from hybrid_calendar.listening import wait_until_answering
from hybrid_calendar.store.postgres.local_server import LocalPostgres

sys.path.insert(0, str(Path(__file__).parent))
from sync import emulator_process  # the sibling benchmark's emulator launcher

ADMIN_TOKEN = "bench-admin-token-0123456789abcdef"
UNLIMITED = 100_000_000
TICKS = os.sysconf("SC_CLK_TCK")


def _parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="gateway scale-out benchmark")
    parser.add_argument("--users", type=int, default=1000, help="users (default 1000)")
    parser.add_argument("--events", type=int, default=50, help="events per user (default 50)")
    parser.add_argument("--workers", type=int, default=8,
                        help="sync.max_concurrency of each process (default 8)")
    parser.add_argument("--no-fsync", action="store_true",
                        help="run PostgreSQL without fsync (shows what durability costs)")
    parser.add_argument("--runs", default="sqlite,pg-1,pg-2,pg-3",
                        help="comma-separated runs (default all four)")
    parser.add_argument("--rounds", type=int, default=3,
                        help="rounds of every run, the order rotated each round; the "
                             "median of each run is reported (default 3)")
    parser.add_argument("--statements", action="store_true",
                        help="count each PostgreSQL run's statements and claims on the server "
                             "(pg_stat_statements; costs the server a little CPU)")
    return parser.parse_args()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def process_cpu(pid: int, thread: int | None = None) -> float:
    """CPU seconds (user + system) a live process used so far; only its thread ``thread``
    when given (a ``serve`` process's event loop runs on its main thread, id ``pid``)."""
    path = f"/proc/{pid}/stat" if thread is None else f"/proc/{pid}/task/{thread}/stat"
    fields = Path(path).read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


def loop_wait(pid: int) -> float | None:
    """Seconds a live ``serve`` process's event-loop thread has spent runnable but
    waiting for a core (the kernel's ``schedstat``, run-queue wait); None where the
    kernel does not report it. On a machine whose cores the PostgreSQL server and the
    Google emulator share with the gateway, this is the loop's time lost to them."""
    try:
        return int(Path(f"/proc/{pid}/task/{pid}/schedstat").read_text().split()[1]) / 1e9
    except (OSError, IndexError, ValueError):
        return None


def server_cpu(server: LocalPostgres) -> float:
    """CPU seconds the PostgreSQL server used so far: the postmaster, the backends it
    reaped (its children's time) and the ones still running."""
    if server.folder is None:
        return 0.0
    postmaster = int((server.folder / "data" / "postmaster.pid").read_text().split()[0])
    fields = Path(f"/proc/{postmaster}/stat").read_text().rsplit(")", 1)[1].split()
    total = sum(int(value) for value in fields[11:15]) / TICKS
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            child = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # ended meanwhile
        if int(child[1]) == postmaster:
            total += (int(child[11]) + int(child[12])) / TICKS
    return total


def machine_busy() -> tuple[float, float]:
    """(busy, total) CPU ticks of the whole machine since boot."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n")[0].split()[1:]]
    idle = values[3] + values[4]
    return sum(values) - idle, sum(values)


@dataclass
class RunResult:
    """One run's figures."""

    name: str
    events: int
    seconds: float
    gateway_cpu: float
    server_cpu: float
    machine_share: float

    @property
    def rate(self) -> float:
        """Stored events per second."""
        return self.events / self.seconds


def toml(settings: dict[str, dict[str, Any]]) -> str:
    lines = []
    for table, values in settings.items():
        lines.append(f"[{table}]")
        for key, value in values.items():
            lines.append(f"{key} = {json.dumps(value)}")
    return "\n".join(lines) + "\n"


@contextmanager
def gateways(count: int, folder: Path, database: str, base: str, account: dict[str, Any],
             workers: int) -> Iterator[list[tuple[subprocess.Popen[bytes], int]]]:
    """``count`` serve processes on ``database``, ready; SIGTERM on exit."""
    started: list[tuple[subprocess.Popen[bytes], int]] = []
    env = {**os.environ, "HYBRID_CALENDAR_NO_ENTRYPOINTS": "1"}
    try:
        for index in range(count):
            port = free_port()
            config = folder / f"gateway-{index}.toml"
            config.write_text(toml({
                "gateway": {"port": port, "public_url": f"http://127.0.0.1:{port}",
                            "data_dir": str(folder / "data"), "database": database,
                            "admin_token": ADMIN_TOKEN, "log_level": "WARNING"},
                "plugins": {"enabled": ["google", "join_info", "kms_local"],
                            "load_entrypoints": False},
                "sync": {"max_concurrency": workers, "sweep_seconds": 3600.0},
                "quota": {"project_per_minute": UNLIMITED, "user_per_minute": UNLIMITED},
                "google": {"service_account_json": json.dumps(account),
                           "calendar_base_url": base + "/calendar/v3",
                           "gmail_base_url": base},
            }))
            with (folder / f"gateway-{index}.log").open("wb") as log:
                process = subprocess.Popen(
                    [sys.executable, "-m", "hybrid_calendar.cli", "serve", "--config",
                     str(config)], cwd=folder, env=env, stdout=log, stderr=subprocess.STDOUT)
            started.append((process, port))
            wait_until_answering(f"http://127.0.0.1:{port}/readyz", within=120, status=200,
                                 alive=lambda p=process: p.poll() is None)  # type: ignore[misc]
        yield started
    finally:
        for process, _port in started:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process, _port in started:
            try:
                process.wait(60)
            except subprocess.TimeoutExpired:
                process.kill()


COUNTING = {"shared_preload_libraries": "pg_stat_statements",
            "pg_stat_statements.track": "top"}
"""Server settings of ``--statements``: count top-level statements (a PL/pgSQL
function's inner statements do not count)."""
CLAIM_PREFIX = "WITH next AS (SELECT id FROM jobs"
FINISH_AND_CLAIM_PREFIX = "WITH done AS (DELETE FROM jobs"


def reset_statements(server: LocalPostgres) -> None:
    """Forget every statement counted so far (``--statements``)."""
    with psycopg.connect(server.url, autocommit=True) as conn:
        conn.execute("SELECT pg_stat_statements_reset()")


def statement_report(server: LocalPostgres, database: str, users: int) -> str:
    """Statements per user of the run's database, and its claims: plain claims and
    finish-and-claims, each with how many found no job; then the server's execution time
    of all statements and of the claims, and the statement that took most of it
    (``--statements``)."""
    with psycopg.connect(server.url, autocommit=True) as conn:
        rows = conn.execute(
            "SELECT query, calls, rows, total_exec_time FROM pg_stat_statements s "
            "JOIN pg_database d ON d.oid = s.dbid WHERE d.datname = %s",
            (database,)).fetchall()
    total = sum(int(calls) for _query, calls, _rows, _ms in rows)

    def claims(prefix: str) -> tuple[int, int, float]:
        mine = [row for row in rows if str(row[0]).startswith(prefix)]
        calls = sum(int(row[1]) for row in mine)
        return calls, calls - sum(int(row[2]) for row in mine), sum(row[3] for row in mine)

    plain, plain_empty, plain_ms = claims(CLAIM_PREFIX)
    chained, chained_empty, chained_ms = claims(FINISH_AND_CLAIM_PREFIX)
    executing = sum(float(row[3]) for row in rows)
    top = max(rows, key=lambda row: float(row[3]), default=None)
    heaviest = (f"; most: {float(top[3]):.0f} ms in {int(top[1])} × "
                f"{' '.join(str(top[0]).split())[:48]}…" if top is not None else "")
    return (f"statements: {total / users:.1f} per user; claims {plain} ({plain_empty} "
            f"found nothing), finish-and-claims {chained} ({chained_empty} found nothing); "
            f"server execution {executing:.0f} ms, of which claims "
            f"{plain_ms + chained_ms:.0f} ms{heaviest}")


def _profiler(pid: int, name: str) -> subprocess.Popen[bytes] | None:
    """``py-spy record`` of a run's first process when ``BENCH_PROFILE`` names an output
    prefix (``<prefix>-<run>.txt``, collapsed stacks; a diagnosis aid that costs the
    profiled process a little CPU)."""
    prefix = os.environ.get("BENCH_PROFILE")
    if not prefix:
        return None
    return subprocess.Popen([str(Path(sys.executable).parent / "py-spy"), "record", "--pid",
                             str(pid), "--output", f"{prefix}-{name}.txt", "--format", "raw",
                             "--rate", "200", "--nonblocking"], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)


def run(name: str, count: int, database: str, stored: Any, base: str,
        account: dict[str, Any], emails: list[str], workers: int,
        server: LocalPostgres | None = None, counting: bool = False) -> RunResult:
    """Activate everyone through the first process and time until the queue is empty."""
    folder = Path(tempfile.mkdtemp(prefix=f"scale-{name}-"))
    try:
        with gateways(count, folder, database, base, account, workers) as running:
            admin = httpx.Client(base_url=f"http://127.0.0.1:{running[0][1]}", timeout=600,
                                 headers={"Authorization": f"Bearer {ADMIN_TOKEN}"})
            admin.post("/api/v1/organisations", json={
                "id": "org1", "name": "Bench", "domain": "example.com"}).raise_for_status()
            profiler = _profiler(running[0][0].pid, name)
            if counting and server is not None:
                reset_statements(server)
            cpu_before = sum(process_cpu(p.pid) for p, _ in running)
            loops_before = sum(process_cpu(p.pid, p.pid) for p, _ in running)
            waits_before = [loop_wait(p.pid) for p, _ in running]
            server_before = server_cpu(server) if server is not None else 0.0
            busy_before = machine_busy()
            started = time.perf_counter()
            for first in range(0, len(emails), 1000):
                admin.post("/api/v1/organisations/org1/users",
                           json={"emails": emails[first:first + 1000]}).raise_for_status()
            while admin.get("/api/v1/status").json()["jobs"]:  # a bench may poll
                time.sleep(0.05)
            seconds = time.perf_counter() - started
            cpu = sum(process_cpu(p.pid) for p, _ in running) - cpu_before
            loops = sum(process_cpu(p.pid, p.pid) for p, _ in running) - loops_before
            waits_after = [loop_wait(p.pid) for p, _ in running]
            database_cpu = (server_cpu(server) - server_before) if server is not None else 0.0
            busy_after = machine_busy()
            share = ((busy_after[0] - busy_before[0])
                     / max(busy_after[1] - busy_before[1], 1))
            admin.close()
            counted = (statement_report(server, database.rsplit("/", 1)[-1], len(emails))
                       if counting and server is not None else "")
            if profiler is not None:
                profiler.send_signal(signal.SIGINT)
                profiler.wait(60)
        events = stored()
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    result = RunResult(name, events, seconds, cpu, database_cpu, share)
    server_part = f", PostgreSQL CPU {database_cpu:.1f}s" if server is not None else ""
    waited = [after - before for before, after in zip(waits_before, waits_after, strict=True)
              if before is not None and after is not None]
    wait_part = (f", {sum(waited) / seconds / count:.2f} of the time waiting for a core"
                 if len(waited) == count else "")
    print(f"{name:7s} {count} process(es): {events} events in {seconds:.1f}s = "
          f"{result.rate:.0f} events/s; gateway CPU {cpu:.1f}s "
          f"({cpu / seconds:.2f} cores; event loops {loops:.1f}s, "
          f"{loops / seconds / count:.2f} of a core each{wait_part}){server_part}, "
          f"machine busy {share:.0%} of {os.cpu_count()} cores", flush=True)
    if counted:
        print(f"{name:7s} {counted}", flush=True)
    return result


def run_once(name: str, round_number: int, server: LocalPostgres, base: str,
             account: dict[str, Any], emails: list[str], workers: int,
             counting: bool = False) -> RunResult:
    """One run of ``name`` (``sqlite`` or ``pg-<processes>``) on a fresh database."""
    if name == "sqlite":
        folder = Path(tempfile.mkdtemp(prefix="scale-sqlite-db-"))
        path = folder / "gateway.sqlite3"

        def count_sqlite() -> int:
            with sqlite3.connect(path) as conn:
                return int(conn.execute("SELECT count(*) FROM meetings").fetchone()[0])
        try:
            return run(name, 1, str(path), count_sqlite, base, account, emails, workers)
        finally:
            shutil.rmtree(folder, ignore_errors=True)
    processes = int(name.split("-")[1])
    database = f"scale_{processes}_{round_number}"
    with psycopg.connect(server.url, autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {database}")
    url = server.database_url(database)

    def count_pg() -> int:
        with psycopg.connect(url) as conn:
            row = conn.execute("SELECT count(*) FROM meetings").fetchone()
            return int(row[0]) if row else 0
    try:
        return run(name, processes, url, count_pg, base, account, emails, workers, server,
                   counting)
    finally:
        with psycopg.connect(server.url, autocommit=True) as conn:
            conn.execute(f"DROP DATABASE {database}")


def main() -> None:
    args = _parse()
    wanted = [name.strip() for name in args.runs.split(",") if name.strip()]
    emails = [f"user{i:05d}@example.com" for i in range(args.users)]
    rounds: list[dict[str, RunResult]] = []
    server = LocalPostgres(durable=not args.no_fsync,
                           settings=COUNTING if args.statements else None)
    server.start()
    if args.statements:
        with psycopg.connect(server.url, autocommit=True) as conn:
            conn.execute("CREATE EXTENSION pg_stat_statements")
    try:
        with emulator_process(emails, args.events) as (base, account):
            for number in range(max(args.rounds, 1)):
                shift = number % len(wanted)
                order = wanted[shift:] + wanted[:shift]  # no run always goes first
                print(f"round {number + 1}: {', '.join(order)}", flush=True)
                rounds.append({name: run_once(name, number, server, base, account,
                                              emails, args.workers, args.statements)
                               for name in order})
    finally:
        server.stop()
    medians = {name: statistics.median(r[name].rate for r in rounds) for name in wanted}
    if "sqlite" in wanted and "pg-1" in wanted:
        paired = ", ".join(f"{r['pg-1'].rate / r['sqlite'].rate:.2f}" for r in rounds)
        print(f"pg-1 / sqlite = {medians['pg-1'] / medians['sqlite']:.2f} of the medians "
              f"(target >= 0.8); per round {paired}")
    if len(rounds) > 1:
        print(f"medians of {len(rounds)} rounds:")
    figures = ", ".join(f"{name} {medians[name]:.0f}" for name in wanted)
    print(f"scale: {figures} events/s")


if __name__ == "__main__":
    main()
