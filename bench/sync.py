"""Full-sync fetch-and-convert cost of the Google provider, next to raw aiohttp.

Seeds N users × M events in the Google emulator (on loopback, in its own process), then
in the same run and alternating rounds:

* **aiohttp** — the I/O ceiling: a bare ``aiohttp.ClientSession`` GETs each user's
  ``events.list`` pages (same query, same tokens and headers, following
  ``nextPageToken``) and only decodes the JSON (``response.json()``, the standard
  library's decoder, as aiohttp does by default);
* **bare** — the same requests on the gateway's shared client (``httpx.AsyncClient`` over
  :mod:`hybrid_calendar.outbound`), decoding the JSON: the cost of the client stack alone;
* **httpx** (``--stock-httpx``) — the same on a stock ``httpx.AsyncClient`` (httpcore);
* **gapic** (``--gapic``) — as bare, but each page's request built by
  google-api-python-client (cached service resource → ``HttpRequest``);
* **gcal-sync** — Home Assistant's library (``GoogleCalendarService.async_list_events``
  on the same aiohttp session) listing the same calendars over the same window into its
  pydantic models: what that library does for a calendar list, nothing more;
* **provider** — ``hooks.fetch_changes(gateway, user, None)`` through the real plugin
  manager: discovery-built request, budget, token cache, retries, conversion of every
  event into ``CalendarEvent``.

The emulator runs in its own process, so this process's CPU time is the client's. Prints,
per mode, events/s and client CPU µs per event (medians of the rounds); the last line
names the provider's and aiohttp's figures, ``ratio R`` = provider CPU per event /
aiohttp CPU per event (issue #14's target: at most 1.5), and the provider's events per
CPU-second over gcal-sync's for the same calendars and window (like for like: fetch and
convert against list and parse; target at least 3). Access tokens are minted once before
the timed rounds (minting is reported separately). The end-to-end figure (a whole
onboarding through ``serve`` against gcal-sync's listing) is ``--end-to-end``'s.

    .venv/bin/python bench/sync.py                      # 100 users × 50 events
    .venv/bin/python bench/sync.py --users 1000 --events 50   # the full size

``--emulator thread`` runs the emulator in a thread of this process instead (its CPU then
counts as the client's: for debugging only).

``--end-to-end`` measures a real ``serve`` process onboarding the users instead, next to
raw aiohttp and gcal-sync (:mod:`sync_end_to_end`).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import functools
import json
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from collections.abc import Awaitable, Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote

import aiohttp
import httpx

from hybrid_calendar.builder import build_gateway
from hybrid_calendar.gateway import Gateway
from hybrid_calendar.loading import load_config
from hybrid_calendar.models import User, UserState
from hybrid_calendar.runtime import tune_garbage_collector
from hybrid_calendar_google.client import COMPRESSED
from hybrid_calendar_google.context import context
from hybrid_calendar_google_emulator.testing import cli_environment, running_emulator

UNLIMITED = 100_000_000
"""Budget used on both sides (gateway and emulator) so quotas never throttle the run."""


@functools.cache
def _gcal_auth() -> Any:
    """gcal-sync's auth class handing out an already minted token (made once)."""
    from gcal_sync.auth import AbstractAuth

    class TokenAuth(AbstractAuth):
        def __init__(self, session: aiohttp.ClientSession, host: str, token: str) -> None:
            super().__init__(session, host=host)
            self._token = token

        async def async_get_access_token(self) -> str:
            return self._token

    return TokenAuth


def _parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Google provider full-sync benchmark")
    parser.add_argument("--users", type=int, default=100, help="users (default 100)")
    parser.add_argument("--events", type=int, default=50, help="events per user (default 50)")
    parser.add_argument("--concurrency", type=int, default=16,
                        help="users synced at once (default 16)")
    parser.add_argument("--rounds", type=int, default=5, help="timed rounds per mode")
    parser.add_argument("--page-size", type=int, default=2500, help="events.list maxResults")
    parser.add_argument("--emulator", choices=("process", "thread"), default="process",
                        help="run the emulator in its own process (default) or a thread")
    parser.add_argument("--gapic", action="store_true",
                        help="also time requests built by google-api-python-client")
    parser.add_argument("--stock-httpx", action="store_true",
                        help="also time a stock httpx.AsyncClient (httpcore transport)")
    parser.add_argument("--end-to-end", action="store_true",
                        help="onboard the users through a real serve process, next to raw "
                             "aiohttp and gcal-sync (bench/sync_end_to_end.py)")
    import sync_end_to_end  # bench/: the end-to-end mode

    sync_end_to_end.add_arguments(parser)
    return parser.parse_args()


async def _gather_limited(items: list[Any], limit: int,
                          fn: Callable[[Any], Awaitable[int]]) -> int:
    semaphore = asyncio.Semaphore(limit)

    async def one(item: Any) -> int:
        async with semaphore:
            return await fn(item)

    return sum(await asyncio.gather(*(one(item) for item in items)))


class Bench:
    """The ways of fetching the same pages."""

    def __init__(self, gateway: Gateway, users: list[User], args: argparse.Namespace) -> None:
        self.gateway = gateway
        self.users = users
        self.args = args
        self.ctx = context(gateway)
        self.http = gateway.http_client()
        self.tokens: dict[str, str] = {}
        time_min, time_max = self.ctx.window.bounds(gateway.clock.now())
        self.window = (datetime.fromisoformat(time_min), datetime.fromisoformat(time_max))
        self.query = {"singleEvents": "true", "timeMin": time_min, "timeMax": time_max,
                      "maxResults": str(args.page_size)}
        self._service: Any = None
        self.session: aiohttp.ClientSession | None = None
        self.stock: httpx.AsyncClient | None = None

    async def mint_tokens(self) -> float:
        started = time.perf_counter()
        client = await self.ctx.client(self.gateway, self.users[0])

        async def mint(user: User) -> int:
            self.tokens[user.email] = await client.tokens.token(user.email)
            return 0

        await _gather_limited(self.users, self.args.concurrency, mint)
        return time.perf_counter() - started

    async def _pages(self, user: User, first: Callable[[str | None], httpx.Request],
                     client: httpx.AsyncClient | None = None) -> int:
        count = 0
        page_token: str | None = None
        http = client or self.http
        while True:
            response = await http.send(first(page_token))
            response.raise_for_status()
            page = response.json()
            count += len(page.get("items", ()))
            page_token = page.get("nextPageToken")
            if not page_token:
                return count

    def _target(self, user: User) -> tuple[str, dict[str, str]]:
        url = f"{self.ctx.calendar_url}/calendars/{quote(user.email, safe='')}/events"
        headers = {"Authorization": f"Bearer {self.tokens[user.email]}",
                   "Accept": "application/json", **COMPRESSED}  # the provider's headers
        return url, headers

    async def aiohttp(self, user: User) -> int:
        assert self.session is not None
        url, headers = self._target(user)
        count = 0
        params = dict(self.query, alt="json")
        while True:
            async with self.session.get(url, params=params, headers=headers) as response:
                response.raise_for_status()
                page = await response.json()
            count += len(page.get("items", ()))
            page_token = page.get("nextPageToken")
            if not page_token:
                return count
            params = dict(self.query, alt="json", pageToken=page_token)

    async def bare(self, user: User, client: httpx.AsyncClient | None = None) -> int:
        url, headers = self._target(user)
        http = client or self.http

        def build(page_token: str | None) -> httpx.Request:
            params = dict(self.query, alt="json")
            if page_token:
                params["pageToken"] = page_token
            return http.build_request("GET", url, params=params, headers=headers)

        return await self._pages(user, build, http)

    async def stock_httpx(self, user: User) -> int:
        return await self.bare(user, self.stock)

    async def gapic(self, user: User) -> int:
        if self._service is None:
            from google.oauth2.credentials import Credentials
            from googleapiclient.discovery import build

            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                self._service = build("calendar", "v3", static_discovery=True,
                                      credentials=Credentials(token="unused"),  # type: ignore[no-untyped-call]  # google-auth: no hints
                                      client_options={"api_endpoint":
                                                      self.ctx.calendar_url + "/"}).events()
        headers = {"Authorization": f"Bearer {self.tokens[user.email]}"}

        def build_request(page_token: str | None) -> httpx.Request:
            request = self._service.list(calendarId=user.email, singleEvents=True,
                                         timeMin=self.query["timeMin"],
                                         timeMax=self.query["timeMax"],
                                         maxResults=int(self.query["maxResults"]),
                                         pageToken=page_token)
            return self.http.build_request(request.method, request.uri,
                                           headers={**request.headers, **headers})

        return await self._pages(user, build_request)

    async def gcal_sync(self, user: User) -> int:
        """gcal-sync listing ``user``'s calendar over the provider's window."""
        from gcal_sync.api import ListEventsRequest

        request = ListEventsRequest(calendarId=user.email, timeMin=self.window[0],
                                    timeMax=self.window[1])
        count = 0
        async for page in await self._gcal_service(user).async_list_events(request):
            count += len(page.items)
        return count

    def _gcal_service(self, user: User) -> Any:
        from gcal_sync.api import GoogleCalendarService

        assert self.session is not None
        return GoogleCalendarService(_gcal_auth()(self.session, self.ctx.calendar_url,
                                                  self.tokens[user.email]))

    async def provider(self, user: User) -> int:
        batch = await self.gateway.hooks.fetch_changes(self.gateway, user, None)
        return len(batch.events)

    async def timed(self, fn: Callable[[User], Awaitable[int]]) -> tuple[int, float, float]:
        """Events, wall seconds and this process's CPU seconds of one round."""
        started, cpu = time.perf_counter(), time.process_time()
        events = await _gather_limited(self.users, self.args.concurrency, fn)
        return events, time.perf_counter() - started, time.process_time() - cpu


async def _run(base_url: str, account: dict[str, Any], args: argparse.Namespace,
               emails: list[str]) -> None:
    with tempfile.TemporaryDirectory() as data_dir:
        config, pm = load_config(overrides={
            "plugins": {"enabled": ["google", "kms_local"], "load_entrypoints": False},
            "gateway": {"data_dir": data_dir},
            # measure the code, not the budget: every mode sends far more than 10,000/min
            "quota": {"project_per_minute": UNLIMITED, "user_per_minute": UNLIMITED},
            "google": {"service_account_json": json.dumps(account),
                       "calendar_base_url": base_url + "/calendar/v3",
                       "gmail_base_url": base_url, "page_size": args.page_size},
        }, environ={})
        gateway = build_gateway(config, pm)
        await gateway.store.open()
        try:
            users = [User(id=f"u{i}", org_id="bench", email=email, state=UserState.ACTIVE)
                     for i, email in enumerate(emails)]
            bench = Bench(gateway, users, args)
            minted = await bench.mint_tokens()
            import gcal_sync.api  # noqa: F401 - imported with the rest of start-up, so
            # its ~47,000 module objects are frozen too and no mode's collections walk them
            # as the gateway's lifespan does after start-up (core/runtime.py)
            tune_garbage_collector(int(config.get("gateway", "gc_threshold")))
            print(f"token grants: {len(users)} in {minted:.2f}s "
                  f"({len(users) / minted:.0f}/s, not in the timed rounds)")
            modes: dict[str, Callable[[User], Awaitable[int]]] = {
                "aiohttp": bench.aiohttp, "bare": bench.bare, "gcal-sync": bench.gcal_sync,
                "provider": bench.provider}
            if args.stock_httpx:
                modes["httpx"] = bench.stock_httpx
            if args.gapic:
                modes["gapic"] = bench.gapic
            limits = httpx.Limits(max_connections=100, max_keepalive_connections=50)
            async with aiohttp.ClientSession(
                    connector=aiohttp.TCPConnector(limit=100)) as bench.session, \
                    httpx.AsyncClient(limits=limits) as bench.stock:
                for fn in modes.values():  # warm-up: connections, caches
                    await bench.timed(fn)
                rates: dict[str, list[float]] = {name: [] for name in modes}
                cpu: dict[str, list[float]] = {name: [] for name in modes}
                counts: dict[str, int] = {}
                names = list(modes)
                for round_no in range(args.rounds):  # rotate the order: no mode always first
                    for name in names[round_no % len(names):] + names[:round_no % len(names)]:
                        events, seconds, cpu_seconds = await bench.timed(modes[name])
                        counts[name] = events
                        rates[name].append(events / seconds)
                        cpu[name].append(cpu_seconds / events * 1e6)
            _report(args, rates, cpu, counts)
        finally:
            await gateway.aclose()
            await gateway.store.close()


def _report(args: argparse.Namespace, rates: dict[str, list[float]],
            cpu: dict[str, list[float]], counts: dict[str, int]) -> None:
    print(f"{args.users} users × {args.events} events, concurrency {args.concurrency}, "
          f"{args.rounds} rounds (medians; best in brackets)")
    for name, values in rates.items():
        print(f"  {name:<9} {statistics.median(values):9.0f} events/s [{max(values):.0f}]  "
              f"client CPU {statistics.median(cpu[name]):6.1f} µs/event "
              f"[{min(cpu[name]):.1f}]  events per round: {counts[name]}")
    if len(set(counts.values())) != 1:
        print("  WARNING: modes saw different event counts")
    paired = [p / a for p, a in zip(cpu["provider"], cpu["aiohttp"], strict=True)]
    print(f"  provider/aiohttp CPU per event, per round (adjacent runs): median "
          f"{statistics.median(paired):.2f}, range {min(paired):.2f}-{max(paired):.2f}; "
          f"bare (client stack only)/aiohttp: "
          f"{statistics.median(cpu['bare']) / statistics.median(cpu['aiohttp']):.2f}")
    provider_cpu = statistics.median(cpu["provider"])
    aiohttp_cpu = statistics.median(cpu["aiohttp"])
    gcal_cpu = statistics.median(cpu["gcal-sync"])
    print(f"fetch-and-convert: provider {provider_cpu:.1f} µs client CPU/event "
          f"({statistics.median(rates['provider']):.0f} events/s) vs raw aiohttp "
          f"{aiohttp_cpu:.1f} µs/event ({statistics.median(rates['aiohttp']):.0f} events/s); "
          f"ratio {provider_cpu / aiohttp_cpu:.2f} (target <= 1.50); gcal-sync listing "
          f"{gcal_cpu:.1f} µs/event, provider/gcal-sync events per CPU-second "
          f"{gcal_cpu / provider_cpu:.2f} (target >= 3)")


@contextlib.contextmanager
def emulator_process(emails: list[str], events: int) -> Iterator[tuple[str, dict[str, Any]]]:
    """Start ``hybrid-calendar emulator google`` in its own process and seed it."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with tempfile.TemporaryDirectory() as folder:
        key_file = Path(folder) / "key.json"
        process = subprocess.Popen(
            [sys.executable, "-m", "hybrid_calendar.cli", "emulator", "google", "--port",
             str(port), "--domain", "example.com", "--service-account-out", str(key_file),
             "--project-rpm", str(UNLIMITED), "--user-rpm", str(UNLIMITED),
             # Google compresses on its own machines; here compression would make the
             # emulator the bottleneck and hide the client's cost, so pages are identity
             "--no-gzip"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=cli_environment())
        base = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 60
            while True:
                try:
                    httpx.post(base + "/emulator/control", json={}, timeout=2)
                    break
                except httpx.TransportError:
                    if process.poll() is not None or time.monotonic() > deadline:
                        raise SystemExit("emulator did not start") from None
                    time.sleep(0.1)
            started = time.perf_counter()
            httpx.post(base + "/emulator/control", timeout=600, json={
                "add_users": emails, "seed": {"users": emails, "events_per_user": events,
                                              "days": 30}}).raise_for_status()
            print(f"seeded {len(emails) * events} events in "
                  f"{time.perf_counter() - started:.1f}s (emulator in its own process)")
            yield base, json.loads(key_file.read_text())
        finally:
            process.terminate()
            process.wait(timeout=30)


def main() -> None:
    args = _parse()
    emails = [f"user{i:05d}@example.com" for i in range(args.users)]
    if args.end_to_end:
        import sync_end_to_end  # bench/: the end-to-end mode

        sync_end_to_end.run(args, emails)
        return
    if args.emulator == "process":
        with emulator_process(emails, args.events) as (base, account):
            asyncio.run(_run(base, account, args, emails))
        return
    with running_emulator(domain="example.com", users=emails, project_rpm=UNLIMITED,
                          user_rpm=UNLIMITED, gzip_responses=False) as emu:
        started = time.perf_counter()
        now = datetime.now(UTC)
        emu.state.bulk_seed(emails, args.events, start=now - timedelta(days=3), days=30)
        print(f"seeded {args.users * args.events} events in "
              f"{time.perf_counter() - started:.1f}s")
        asyncio.run(_run(emu.base_url, emu.service_account_info, args, emails))


if __name__ == "__main__":
    main()
