"""End-to-end onboarding: a real ``serve`` process against raw aiohttp and gcal-sync.

The Google emulator runs in its own process, seeded with N users × M events (one page of
``events.list`` per user). In the same run, alternating rounds, the same calendars are
read three ways:

* **aiohttp** — the I/O ceiling: a raw ``aiohttp.ClientSession`` GETs each user's
  ``events.list`` pages (the gateway's query: ``singleEvents``, its retention window,
  ``maxResults``) and decodes the JSON. Nothing else. CPU is this process's.
* **gcal-sync** — Home Assistant's library (``gcal_sync.api.GoogleCalendarService``)
  listing the same calendars over the same window into its pydantic ``Event`` models.
  CPU is this process's.
* **gateway** — a real ``hybrid-calendar serve`` process on a fresh SQLite database
  (``synchronous=FULL``, the default) onboards every user through the admin API:
  activation, full sync (fetch, convert, join detection, encryption, store), Join-button
  scheduling, push channel. CPU is the serve process's (``/proc/<pid>/stat``, user +
  system) from just before the users are added until the job queue is empty; peak RSS is
  the process's high-water mark (``VmHWM``).

The aiohttp and gcal-sync modes use tokens minted before the timed rounds (the
gateway mints its own, inside its timed CPU). Prints per round and a summary; the last
line reads ``end-to-end: gateway X µs CPU/event, Y events/s, peak RSS Z MB; aiohttp ...;
gcal-sync ...; gateway/gcal-sync events per CPU-second R``.

    .venv/bin/python bench/sync.py --end-to-end                      # 100 users × 50 events
    .venv/bin/python bench/sync.py --end-to-end --users 1000 --events 50 --rounds 2
    .venv/bin/python bench/sync_end_to_end.py --users 200            # the same, directly
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx

from hybrid_calendar.listening import wait_until_answering

ADMIN_TOKEN = "bench-admin-token-0123456789abcdef"
UNLIMITED = 100_000_000
TICKS = os.sysconf("SC_CLK_TCK")
CONCURRENCY = 16


@dataclass
class Round:
    """One mode's figures in one round."""

    events: int
    seconds: float
    cpu: float
    peak_rss: int = 0

    @property
    def rate(self) -> float:
        """Events per wall-clock second."""
        return self.events / self.seconds

    @property
    def cpu_us(self) -> float:
        """CPU microseconds per event (of the process doing the work)."""
        return self.cpu / max(self.events, 1) * 1e6


def process_cpu(pid: int) -> float:
    """CPU seconds (user + system) a live process used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


def peak_rss(pid: int) -> int:
    """High-water mark of a live process's resident set, in bytes (``VmHWM``)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    return 0


def _window() -> tuple[str, str]:
    """The gateway's default retention window (7 days back, 31 ahead) as RFC 3339."""
    now = datetime.now(UTC)
    return ((now - timedelta(days=7)).isoformat().replace("+00:00", "Z"),
            (now + timedelta(days=31)).isoformat().replace("+00:00", "Z"))


async def _limited(items: list[str], fn: Callable[[str], Awaitable[int]]) -> int:
    semaphore = asyncio.Semaphore(CONCURRENCY)

    async def one(item: str) -> int:
        async with semaphore:
            return await fn(item)

    return sum(await asyncio.gather(*(one(item) for item in items)))


async def mint_tokens(base: str, account: dict[str, Any], emails: list[str]) -> dict[str, str]:
    """Access tokens for every user, minted by the provider's own token cache."""
    from hybrid_calendar.builder import build_gateway
    from hybrid_calendar.loading import load_config
    from hybrid_calendar.models import User, UserState
    from hybrid_calendar_google.context import context

    with tempfile.TemporaryDirectory() as data_dir:
        config, pm = load_config(overrides={
            "plugins": {"enabled": ["google", "kms_local"], "load_entrypoints": False},
            "gateway": {"data_dir": data_dir},
            "quota": {"project_per_minute": UNLIMITED, "user_per_minute": UNLIMITED},
            "google": {"service_account_json": json.dumps(account),
                       "calendar_base_url": base + "/calendar/v3", "gmail_base_url": base},
        }, environ={})
        gateway = build_gateway(config, pm)
        await gateway.store.open()
        try:
            user = User(id="u0", org_id="bench", email=emails[0], state=UserState.ACTIVE)
            client = await context(gateway).client(gateway, user)
            tokens: dict[str, str] = {}

            async def mint(email: str) -> int:
                tokens[email] = await client.tokens.token(email)
                return 0

            await _limited(emails, mint)
            return tokens
        finally:
            await gateway.aclose()
            await gateway.store.close()


async def run_aiohttp(base: str, tokens: dict[str, str], page_size: int) -> Round:
    """Raw aiohttp: GET every user's pages, decode the JSON, follow ``nextPageToken``."""
    import aiohttp

    time_min, time_max = _window()
    query = {"singleEvents": "true", "timeMin": time_min, "timeMax": time_max,
             "maxResults": str(page_size)}
    connector = aiohttp.TCPConnector(limit=CONCURRENCY)
    async with aiohttp.ClientSession(connector=connector) as session:
        async def user(email: str) -> int:
            url = f"{base}/calendar/v3/calendars/{quote(email, safe='')}/events"
            headers = {"Authorization": f"Bearer {tokens[email]}"}
            count, params = 0, dict(query)
            while True:
                async with session.get(url, params=params, headers=headers) as response:
                    response.raise_for_status()
                    page = await response.json()
                count += len(page.get("items", ()))
                if not page.get("nextPageToken"):
                    return count
                params["pageToken"] = page["nextPageToken"]

        return await _timed_here(lambda: _limited(list(tokens), user))


async def run_gcal_sync(base: str, tokens: dict[str, str], page_size: int) -> Round:
    """gcal-sync: ``GoogleCalendarService.async_list_events`` over the same window."""
    import aiohttp
    from gcal_sync.api import GoogleCalendarService, ListEventsRequest
    from gcal_sync.auth import AbstractAuth

    class TokenAuth(AbstractAuth):
        def __init__(self, session: aiohttp.ClientSession, token: str) -> None:
            super().__init__(session, host=base + "/calendar/v3")
            self._token = token

        async def async_get_access_token(self) -> str:
            return self._token

    now = datetime.now(UTC)
    connector = aiohttp.TCPConnector(limit=CONCURRENCY)
    async with aiohttp.ClientSession(connector=connector) as session:
        async def user(email: str) -> int:
            service = GoogleCalendarService(TokenAuth(session, tokens[email]))
            request = ListEventsRequest(calendarId=email, timeMin=now - timedelta(days=7),
                                        timeMax=now + timedelta(days=31))
            request.page_token = None
            count = 0
            async for page in await service.async_list_events(request):
                count += len(page.items)
            return count

        return await _timed_here(lambda: _limited(list(tokens), user))


async def _timed_here(work: Callable[[], Awaitable[int]]) -> Round:
    cpu, started = time.process_time(), time.perf_counter()
    events = await work()
    return Round(events, time.perf_counter() - started, time.process_time() - cpu)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _toml(settings: dict[str, dict[str, Any]]) -> str:
    lines = []
    for table, values in settings.items():
        lines.append(f"[{table}]")
        lines.extend(f"{key} = {json.dumps(value)}" for key, value in values.items())
    return "\n".join(lines) + "\n"


def _thread_cpu(pid: int) -> list[tuple[str, float]]:
    """CPU seconds (user + system) of each live thread of a process, by thread name."""
    threads = []
    for task in sorted(Path(f"/proc/{pid}/task").iterdir()):
        try:
            name = (task / "comm").read_text().strip()
            fields = (task / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:  # the thread ended meanwhile
            continue
        threads.append((f"{name} ({task.name})",
                        (int(fields[11]) + int(fields[12])) / TICKS))
    return threads


def _profiler(pid: int) -> subprocess.Popen[bytes] | None:
    """``py-spy record`` of the serve process when ``BENCH_PROFILE`` names an output file
    (a diagnosis aid: sampling costs the serve process a little CPU; non-blocking, as in
    blocking mode idle waits were counted as busy on this machine; one stack per thread)."""
    output = os.environ.get("BENCH_PROFILE")
    if not output:
        return None
    return subprocess.Popen([str(Path(sys.executable).parent / "py-spy"), "record", "--pid",
                             str(pid), "--output", output, "--format", "raw", "--rate", "200",
                             "--nonblocking", "--threads"], stdout=subprocess.DEVNULL)


def run_gateway(base: str, account: dict[str, Any], emails: list[str],
                workers: int, page_size: int) -> Round:
    """One ``serve`` process on a fresh database onboards every user; times the queue."""
    with tempfile.TemporaryDirectory(prefix="e2e-") as name:
        folder = Path(name)
        port = _free_port()
        database = folder / "gateway.sqlite3"
        (folder / "gateway.toml").write_text(_toml({
            "gateway": {"port": port, "public_url": f"http://127.0.0.1:{port}",
                        "data_dir": str(folder / "data"), "database": str(database),
                        "admin_token": ADMIN_TOKEN},
            "plugins": {"enabled": ["google", "join_info", "kms_local"],
                        "load_entrypoints": False},
            "sync": {"max_concurrency": workers},
            "quota": {"project_per_minute": UNLIMITED, "user_per_minute": UNLIMITED},
            "google": {"service_account_json": json.dumps(account),
                       "calendar_base_url": base + "/calendar/v3", "gmail_base_url": base,
                       "page_size": page_size},
        }))
        env = {**os.environ, "HYBRID_CALENDAR_NO_ENTRYPOINTS": "1"}
        with (folder / "gateway.log").open("wb") as log:
            process = subprocess.Popen(
                [sys.executable, "-m", "hybrid_calendar.cli", "serve", "--config",
                 str(folder / "gateway.toml")], cwd=folder, env=env, stdout=log,
                stderr=subprocess.STDOUT)
        try:
            wait_until_answering(f"http://127.0.0.1:{port}/readyz", within=120, status=200,
                                 alive=lambda: process.poll() is None)
            with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=600,
                              headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}) as admin:
                admin.post("/api/v1/organisations", json={
                    "id": "org1", "name": "Bench", "domain": "example.com"}
                ).raise_for_status()
                profiler = _profiler(process.pid)
                threads_before = dict(_thread_cpu(process.pid))
                cpu, started = process_cpu(process.pid), time.perf_counter()
                for first in range(0, len(emails), 1000):
                    admin.post("/api/v1/organisations/org1/users",
                               json={"emails": emails[first:first + 1000]}).raise_for_status()
                while admin.get("/api/v1/status").json()["jobs"]:  # a bench may poll
                    time.sleep(0.1)
                seconds = time.perf_counter() - started
                used, peak = process_cpu(process.pid) - cpu, peak_rss(process.pid)
                if os.environ.get("BENCH_CPU_SPLIT"):  # diagnosis: user vs system CPU
                    fields = Path(f"/proc/{process.pid}/stat").read_text().rsplit(")", 1)[1]
                    user_s, system_s = (int(v) / TICKS for v in fields.split()[11:13])
                    print(f"  serve process: user {user_s:.2f}s, system {system_s:.2f}s "
                          "since its start", file=sys.stderr)
                    for name, thread_s in _thread_cpu(process.pid):
                        print(f"    thread {name}: {thread_s - threads_before.get(name, 0):.2f}s"
                              " while onboarding", file=sys.stderr)
                if profiler is not None:
                    profiler.send_signal(signal.SIGINT)
                    profiler.wait(60)
        finally:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(60)
            except subprocess.TimeoutExpired:
                process.kill()
        with sqlite3.connect(database) as conn:
            stored = int(conn.execute("SELECT count(*) FROM meetings").fetchone()[0])
        return Round(stored, seconds, used, peak)


def run(args: argparse.Namespace, emails: list[str]) -> None:
    """Seed the emulator, then alternate the three modes for ``args.rounds`` rounds."""
    try:
        import aiohttp  # noqa: F401 -- checked before the long set-up
        import gcal_sync  # noqa: F401
    except ImportError as err:
        print(f"the end-to-end mode needs aiohttp and gcal-sync ({err}): "
              ".venv/bin/pip install -e '.[bench]'", file=sys.stderr)
        raise SystemExit(2) from None
    sys.path.insert(0, str(Path(__file__).parent))
    from sync import emulator_process  # the sibling benchmark's emulator launcher

    with emulator_process(emails, args.events) as (base, account):
        tokens = asyncio.run(mint_tokens(base, account, emails))
        modes: dict[str, Callable[[], Round]] = {
            "aiohttp": lambda: asyncio.run(run_aiohttp(base, tokens, args.page_size)),
            "gcal-sync": lambda: asyncio.run(run_gcal_sync(base, tokens, args.page_size)),
            "gateway": lambda: run_gateway(base, account, emails, args.workers,
                                           args.page_size),
        }
        modes["aiohttp"]()  # warm-up: imports, the emulator's caches
        results: dict[str, list[Round]] = {name: [] for name in modes}
        names = list(modes)
        for number in range(args.rounds):  # rotate the order: no mode always first
            for name in names[number % 3:] + names[:number % 3]:
                result = modes[name]()
                results[name].append(result)
                print(f"  round {number + 1} {name:<9} {result.events} events in "
                      f"{result.seconds:6.2f}s = {result.rate:7.0f} events/s, "
                      f"{result.cpu_us:6.1f} µs CPU/event"
                      + (f", peak RSS {result.peak_rss / 2**20:.0f} MB"
                         if result.peak_rss else ""), flush=True)
    _report(args, results)


def _report(args: argparse.Namespace, results: dict[str, list[Round]]) -> None:
    def med(name: str, value: Callable[[Round], float]) -> float:
        return statistics.median(value(r) for r in results[name])

    expected = args.users * args.events
    for name, rounds in results.items():
        if any(r.events != expected for r in rounds):
            print(f"  WARNING: {name} saw {[r.events for r in rounds]} events, "
                  f"expected {expected}")
    gateway_us, gcal_us = med("gateway", lambda r: r.cpu_us), med("gcal-sync", lambda r: r.cpu_us)
    # Each round's gateway CPU per event over the same round's aiohttp: this machine's
    # speed moves by more than a fifth from one minute to the next (both move together),
    # so the ratio is what compares code across runs; the target stays the absolute one.
    ratios = [gateway.cpu_us / ceiling.cpu_us for gateway, ceiling
              in zip(results["gateway"], results["aiohttp"], strict=True)]
    print(f"{args.users} users × {args.events} events, {args.rounds} rounds, medians; "
          f"gateway sync.max_concurrency {args.workers}, others {CONCURRENCY} at once")
    print(f"gateway / aiohttp CPU per event, same round: {statistics.median(ratios):.1f} "
          f"(per round {', '.join(f'{ratio:.1f}' for ratio in ratios)})")
    print(f"end-to-end: gateway {gateway_us:.0f} µs CPU/event (target <= 100), "
          f"{med('gateway', lambda r: r.rate):.0f} events/s, peak RSS "
          f"{max(r.peak_rss for r in results['gateway']) / 2**20:.0f} MB (target <= 150); "
          f"aiohttp {med('aiohttp', lambda r: r.cpu_us):.1f} µs/event, "
          f"{med('aiohttp', lambda r: r.rate):.0f} events/s; gcal-sync {gcal_us:.1f} µs/event, "
          f"{med('gcal-sync', lambda r: r.rate):.0f} events/s; gateway/gcal-sync events per "
          f"CPU-second {gcal_us / gateway_us:.2f} (for reading only: the whole onboarding "
          f"against a listing; the >= 3 target is fetch-and-convert's, bench/sync.py)")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of this mode that ``bench/sync.py`` does not have."""
    parser.add_argument("--workers", type=int, default=8,
                        help="the gateway's sync.max_concurrency (default 8)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--users", type=int, default=100)
    parser.add_argument("--events", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--page-size", type=int, default=2500)
    add_arguments(parser)
    args = parser.parse_args()
    run(args, [f"user{i:05d}@example.com" for i in range(args.users)])


if __name__ == "__main__":
    main()
