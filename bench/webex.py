"""``@webex:onetime`` end to end: the gateway against both emulators, next to raw clients.

Seeds U users × E events per mode (default 100 × 10 = 1,000) with ``@webex:onetime`` in
Location in the Google emulator, and the same people in the Webex emulator. Both
emulators run on loopback, each in its own process (the real services are remote; in
threads of this process they would share its interpreter lock). Three modes, in the same
run, each on its own users:

* **aiohttp** — the I/O ceiling: bare aiohttp makes the calls the gateway makes for a
  keyword event and nothing else: Google ``events.list`` per user, then per event Webex
  ``GET /meetings?integrationTag=`` (find, same query), ``POST /meetings`` (create, a body
  of the same shape: agenda, invitees, join-before-host) and Google ``events.patch`` with
  ``If-Match`` (the invite). The users' calendar language is known,
  as after activation (no ``settings/locale`` read). Tokens are minted before.
* **httpx** — the same calls with bare httpx, the HTTP client the project is built on:
  the difference to aiohttp is the client library's, not the project's code.
* **gateway** — ``sync_user`` per user through the real plugin manager (Google provider,
  join_info, Webex sink): full sync, keyword, find before create, create, localized
  block, invite write, encrypted store.

The modes run in the order aiohttp, httpx, gateway, gateway, httpx, aiohttp, each on a
fresh half of its users, so drift during the run weighs on all alike. Calls are counted on
the client side (the gateway's shared HTTP client's request hook; the raw loops count
their own). Prints Google and Webex calls per keyword event (target: at most 1 Webex
create and 1 Google write per event) and events/s; the last line names the figures with
``ratio R`` = gateway/aiohttp (target ≥ 0.5).

    .venv/bin/python bench/webex.py                  # 100 users × 10 events per mode
"""

from __future__ import annotations

import argparse
import asyncio
import json
import socket
import subprocess
import sys
import tempfile
import time
import warnings
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote

import aiohttp
import httpx

from hybrid_calendar.builder import build_gateway
from hybrid_calendar.engine.sync import sync_user
from hybrid_calendar.gateway import Gateway
from hybrid_calendar.loading import load_config
from hybrid_calendar.models import Organisation, User, UserState
from hybrid_calendar.runtime import tune_garbage_collector
from hybrid_calendar_google.context import context as google_context
from hybrid_calendar_google_emulator.testing import cli_environment as google_cli_env
from hybrid_calendar_webex.context import context as webex_context
from hybrid_calendar_webex_emulator.testing import cli_environment as webex_cli_env

DOMAIN = "bench.example.com"
UNLIMITED = 100_000_000


def _parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--users", type=int, default=100)
    parser.add_argument("--events", type=int, default=10, help="keyword events per user")
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--loop", choices=("asyncio", "uvloop"), default="asyncio",
                        help="event loop of every mode (uvloop: as serve with uvloop)")
    return parser.parse_args()


async def sync_one(gateway: Gateway, user: User) -> int:
    """One user's sync as the engine's job runs it (user, organisation, cursor read
    together first); returns the meetings changed, as sync_user does."""
    context = await gateway.store.get_user_context(user.id)
    assert context is not None
    return await sync_user(gateway, context)


async def _limited(items: list[Any], limit: int, fn: Callable[[Any], Awaitable[int]]) -> int:
    semaphore = asyncio.Semaphore(limit)

    async def one(item: Any) -> int:
        async with semaphore:
            return await fn(item)

    return sum(await asyncio.gather(*(one(item) for item in items)))


class Emulators:
    """The Google and the Webex emulator, each in its own process (both are remote to
    the gateway; in threads of this process they would share its interpreter lock)."""

    def __init__(self, emails: list[str], folder: Path) -> None:
        self.folder = folder
        self.google_url = f"http://127.0.0.1:{_free_port()}"
        self.webex_url = f"http://127.0.0.1:{_free_port()}"
        key, admin = folder / "key.json", folder / "admin.token"
        cli = [sys.executable, "-m", "hybrid_calendar.cli", "emulator"]
        CLI_ENV = webex_cli_env(google_cli_env())
        self.processes = [
            subprocess.Popen([*cli, "google", "--port", self.google_url.rsplit(":", 1)[1],
                              "--domain", DOMAIN, "--service-account-out", str(key),
                              "--project-rpm", str(UNLIMITED), "--user-rpm", str(UNLIMITED),
                              "--no-gzip"], stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL, env=CLI_ENV),
            subprocess.Popen([*cli, "webex", "--port", self.webex_url.rsplit(":", 1)[1],
                              "--domain", DOMAIN, "--users", ",".join(emails),
                              "--admin-token-out", str(admin)], stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL, env=CLI_ENV)]
        self._wait(self.google_url + "/emulator/control", {})
        self._wait(self.webex_url + "/_emulator/control", {})
        httpx.post(self.google_url + "/emulator/control", json={"add_users": emails},
                   timeout=60).raise_for_status()
        self.account = json.loads(key.read_text())
        self.admin_token = admin.read_text().strip()
        app = httpx.post(self.webex_url + "/_emulator/service-apps",
                         json={"name": "Bench"}).json()
        httpx.post(self.webex_url + f"/_emulator/service-apps/{app['applicationId']}"
                   "/authorize").raise_for_status()
        self.service_app = app

    def _wait(self, url: str, body: dict[str, Any]) -> None:
        deadline = time.monotonic() + 60
        while True:
            try:
                httpx.post(url, json=body, timeout=2)
                return
            except httpx.TransportError:
                if any(p.poll() is not None for p in self.processes) or \
                        time.monotonic() > deadline:
                    raise SystemExit("an emulator did not start") from None
                time.sleep(0.1)

    def close(self) -> None:
        for process in self.processes:
            process.terminate()
            process.wait(timeout=30)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def _seed(http: httpx.AsyncClient, google_url: str, tokens: dict[str, str],
                emails: list[str], events: int, limit: int) -> None:
    """``events`` keyword events per person through ``events.insert`` (not timed)."""
    base = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) + timedelta(days=1)

    async def one(u: int) -> int:
        email = emails[u]
        for e in range(events):
            start = base + timedelta(hours=e * 5 + u % 3)
            response = await http.post(
                f"{google_url}/calendar/v3/calendars/{quote(email, safe='')}/events",
                headers={"Authorization": f"Bearer {tokens[email]}"}, json={
                    "summary": f"Review {e}", "location": "@webex:onetime",
                    "description": "Agenda: figures",
                    "start": {"dateTime": start.isoformat()},
                    "end": {"dateTime": (start + timedelta(minutes=30)).isoformat()},
                    "attendees": [{"email": email, "organizer": True},
                                  {"email": emails[(u + 1) % len(emails)]}]})
            response.raise_for_status()
        return events

    await _limited(list(range(len(emails))), limit, one)


class Counter:
    """Requests the gateway's shared HTTP client sends, by host and method."""

    def __init__(self, google_url: str, webex_url: str) -> None:
        self.hosts = {httpx.URL(google_url).port: "google", httpx.URL(webex_url).port: "webex"}
        self.counts: dict[tuple[str, str], int] = {}

    async def __call__(self, request: httpx.Request) -> None:
        service = self.hosts.get(request.url.port, "other")
        write = "create" if (service == "webex" and request.method == "POST"
                             and request.url.path.endswith("/meetings")) else (
            "write" if request.method in ("PATCH", "PUT", "POST") else "read")
        key = (service, write)
        self.counts[key] = self.counts.get(key, 0) + 1

    def figures(self) -> tuple[int, int, int, int]:
        """(Google calls, Google writes, Webex calls, Webex creates)."""
        g = sum(v for (s, _), v in self.counts.items() if s == "google")
        w = sum(v for (s, _), v in self.counts.items() if s == "webex")
        return (g, self.counts.get(("google", "write"), 0), w,
                self.counts.get(("webex", "create"), 0))


class Raw:
    """The same Google and Webex calls as the gateway, made with a bare HTTP client:
    aiohttp (the I/O ceiling) or httpx (the client the gateway is built on)."""

    def __init__(self, send: Callable[..., Awaitable[Any]], google_url: str,
                 webex_url: str, google_tokens: dict[str, str], webex_token: str) -> None:
        self.send = send
        self.google_url = google_url
        self.webex_url = webex_url
        self.google_tokens = google_tokens
        self.webex = {"Authorization": f"Bearer {webex_token}"}
        self.calls = {"google": 0, "google_writes": 0, "webex": 0, "webex_creates": 0}

    def figures(self) -> tuple[int, int, int, int]:
        """(Google calls, Google writes, Webex calls, Webex creates)."""
        c = self.calls
        return c["google"], c["google_writes"], c["webex"], c["webex_creates"]

    async def user(self, email: str) -> int:
        google = {"Authorization": f"Bearer {self.google_tokens[email]}"}
        calendar = f"{self.google_url}/calendar/v3/calendars/{quote(email, safe='')}"
        listed = (await self.send("GET", f"{calendar}/events", google,
                                  params={"singleEvents": "true"}))["items"]
        items = [e for e in listed  # the organiser's own events, not attendee copies
                 if (e.get("organizer") or {}).get("email", email) == email]
        self.calls["google"] += 1 + len(items)  # list; per event the patch
        self.calls["google_writes"] += len(items)
        self.calls["webex"] += 2 * len(items)  # per event find and create
        self.calls["webex_creates"] += len(items)
        for event in items:
            start = datetime.fromisoformat(event["start"]["dateTime"])
            end = datetime.fromisoformat(event["end"]["dateTime"])
            tag = f"gcal:{event['id']}"
            await self.send("GET", f"{self.webex_url}/meetings", self.webex, params={
                "integrationTag": tag, "hostEmail": email, "meetingType": "meetingSeries",
                "from": _z(start - timedelta(days=1)), "to": _z(end + timedelta(days=1)),
                "max": 10})
            meeting = await self.send("POST", f"{self.webex_url}/meetings", self.webex, json={
                "title": event["summary"], "agenda": event.get("description", ""),
                "start": _z(start), "end": _z(end), "timezone": "UTC", "hostEmail": email,
                "invitees": [{"email": a["email"]} for a in event.get("attendees", ())
                             if a["email"] != email],
                "sendEmail": False, "enabledJoinBeforeHost": True,
                "joinBeforeHostMinutes": 5, "integrationTags": [tag]})
            await self.send("PATCH", f"{calendar}/events/{event['id']}",
                            {**google, "If-Match": event["etag"]}, json={
                                "location": meeting["webLink"],
                                "description": event.get("description", "") + "\n\n"
                                + meeting["webLink"],
                                "extendedProperties": {"private": {"hybridCalendarJoin": "x"}}})
        return len(items)


def aiohttp_sender(session: aiohttp.ClientSession) -> Callable[..., Awaitable[Any]]:
    """One request with aiohttp, its JSON answer."""
    async def send(method: str, url: str, headers: dict[str, str], **kw: Any) -> Any:
        async with session.request(method, url, headers=headers, **kw) as response:
            response.raise_for_status()
            return await response.json()
    return send


def httpx_sender(client: httpx.AsyncClient) -> Callable[..., Awaitable[Any]]:
    """One request with httpx, its JSON answer."""
    async def send(method: str, url: str, headers: dict[str, str], **kw: Any) -> Any:
        response = await client.request(method, url, headers=headers, **kw)
        response.raise_for_status()
        return response.json()
    return send


def _z(when: datetime) -> str:
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


async def _run(args: argparse.Namespace, emulators: Emulators, raw_users: list[str],
               gw_users: list[str]) -> None:
    app = emulators.service_app
    with tempfile.TemporaryDirectory() as data_dir:
        config, pm = load_config(overrides={
            "plugins": {"enabled": ["google", "join_info", "kms_local", "webex"],
                        "load_entrypoints": False},
            "gateway": {"data_dir": data_dir, "synchronous": "NORMAL"},
            "quota": {"project_per_minute": UNLIMITED, "user_per_minute": UNLIMITED},
            "google": {"service_account_json": json.dumps(emulators.account),
                       "calendar_base_url": emulators.google_url + "/calendar/v3",
                       "gmail_base_url": emulators.google_url},
            "webex": {"api_base_url": emulators.webex_url + "/v1",
                      "service_app_id": app["applicationId"], "client_id": app["clientId"],
                      "client_secret": app["clientSecret"],
                      "applications_token": emulators.admin_token,
                      "target_org_id": app["orgId"], "rate_per_minute": UNLIMITED},
        }, environ={})
        gateway = build_gateway(config, pm)
        await gateway.store.open()
        try:
            await _measure(args, gateway, emulators, raw_users, gw_users)
        finally:
            await gateway.aclose()
            await gateway.store.close()


async def _measure(args: argparse.Namespace, gateway: Gateway, emulators: Emulators,
                   raw_users: list[str], gw_users: list[str]) -> None:
    httpx_users = [e.replace("raw", "plain", 1) for e in raw_users]
    await gateway.store.put_organisation(Organisation("bench", "Bench", DOMAIN))
    users = [User(id=f"u{i}", org_id="bench", email=e, state=UserState.ACTIVE, locale="en")
             for i, e in enumerate(gw_users)]
    for user in users:
        await gateway.store.put_user(user)
    gclient = await google_context(gateway).client(gateway, users[0])
    everyone = raw_users + httpx_users + gw_users
    tokens = {e: await gclient.tokens.token(e) for e in everyone}  # not timed
    webex_token = await webex_context(gateway).client(gateway, "bench").tokens.access_token()
    http = gateway.http_client()
    started = time.perf_counter()
    await _seed(http, emulators.google_url, tokens, everyone, args.events, args.concurrency)
    print(f"seeded {len(everyone) * args.events} events in "
          f"{time.perf_counter() - started:.1f}s (emulators in their own processes)")
    tune_garbage_collector(int(gateway.config.get("gateway", "gc_threshold")))

    counter = Counter(emulators.google_url, emulators.webex_url)
    http.event_hooks["request"].append(counter)
    seconds = {"aiohttp": 0.0, "httpx": 0.0, "gateway": 0.0}
    cpu = {"aiohttp": 0.0, "httpx": 0.0, "gateway": 0.0}
    events = {"aiohttp": 0, "httpx": 0, "gateway": 0}
    half = len(users) // 2
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=100)) as session, \
            httpx.AsyncClient(limits=httpx.Limits(max_connections=100,
                                                  max_keepalive_connections=50)) as plain:
        raws = {name: Raw(sender, emulators.google_url, emulators.webex_url + "/v1", tokens,
                          webex_token)
                for name, sender in (("aiohttp", aiohttp_sender(session)),
                                     ("httpx", httpx_sender(plain)))}
        emails = {"aiohttp": raw_users, "httpx": httpx_users}
        # ABCCBA on fresh halves of each mode's users, so drift during the run (a busy
        # machine, the emulators' growing state) weighs on every mode alike
        for mode, part in (("aiohttp", 0), ("httpx", 0), ("gateway", 0), ("gateway", 1),
                           ("httpx", 1), ("aiohttp", 1)):
            started, cpu_started = time.perf_counter(), time.process_time()
            if mode == "gateway":
                group = users[:half] if part == 0 else users[half:]
                await _limited(group, args.concurrency, lambda u: sync_one(gateway, u))
                events[mode] += len(group) * args.events
            else:
                chunk = emails[mode][:half] if part == 0 else emails[mode][half:]
                events[mode] += await _limited(chunk, args.concurrency, raws[mode].user)
            seconds[mode] += time.perf_counter() - started
            cpu[mode] += time.process_time() - cpu_started
    calls = {"aiohttp": raws["aiohttp"].figures(), "httpx": raws["httpx"].figures(),
             "gateway": counter.figures()}
    rate = {mode: events[mode] / seconds[mode] for mode in seconds}
    print(f"{len(gw_users)} users × {args.events} @webex:onetime events per mode, "
          f"concurrency {args.concurrency}")
    for mode in ("aiohttp", "httpx", "gateway"):
        google_calls, google_writes, webex_calls, creates = (
            c / events[mode] for c in calls[mode])
        print(f"  {mode:<8} {rate[mode]:8.0f} events/s  client CPU "
              f"{cpu[mode] / events[mode] * 1e3:5.2f} ms/event  per event: Google "
              f"{google_calls:.2f} calls ({google_writes:.2f} writes), Webex "
              f"{webex_calls:.2f} calls ({creates:.2f} creates)")
    g_calls, g_writes, w_calls, w_creates = (c / events["gateway"] for c in calls["gateway"])
    print(f"  gateway/httpx (the project's code on its own client): "
          f"{rate['gateway'] / rate['httpx']:.2f}")
    print(f"gateway {rate['gateway']:.0f} events/s vs raw aiohttp {rate['aiohttp']:.0f} "
          f"events/s; per event Google {g_calls:.2f} calls ({g_writes:.2f} writes), Webex "
          f"{w_calls:.2f} calls ({w_creates:.2f} creates); "
          f"ratio {rate['gateway'] / rate['aiohttp']:.2f} (target >= 0.50)")


def main() -> None:
    args = _parse()
    warnings.simplefilter("ignore", ResourceWarning)
    raw_users = [f"raw{i}@{DOMAIN}" for i in range(args.users)]
    gw_users = [f"user{i}@{DOMAIN}" for i in range(args.users)]
    with tempfile.TemporaryDirectory() as folder:
        emulators = Emulators(raw_users + [e.replace("raw", "plain", 1) for e in raw_users]
                              + gw_users, Path(folder))
        try:
            if args.loop == "uvloop":
                import uvloop

                uvloop.run(_run(args, emulators, raw_users, gw_users))
            else:
                asyncio.run(_run(args, emulators, raw_users, gw_users))
        finally:
            emulators.close()


if __name__ == "__main__":
    main()
