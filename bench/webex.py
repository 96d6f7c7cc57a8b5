"""``@webex:onetime`` end to end: the gateway against both emulators, next to raw aiohttp.

Seeds U users × E events (default 100 × 10 = 1,000) with ``@webex:onetime`` in Location in
the Google emulator, and the same people in the Webex emulator (both on loopback, in
threads of this process). Then, in the same run:

* **raw** — the I/O ceiling: ``aiohttp`` makes the calls the gateway makes for each
  keyword event, and nothing else: Google ``events.list`` per user, then per event Webex
  ``GET /meetings?integrationTag=`` (find), ``POST /meetings`` (create), Google
  ``settings/locale`` and ``events.patch`` with ``If-Match`` (the invite). Tokens are
  minted before the timed part.
* **gateway** — ``sync_user`` for each user of a second, identical set of users, through
  the real plugin manager (Google provider, join_info, Webex sink): full sync, keyword,
  find-before-create, create, localized block, invite write, store.

Prints Google and Webex calls per keyword event (target: at most 1 Webex create and 1
Google write per event) and events/s for both; the last line names the figures with
``ratio R`` = gateway/raw (target ≥ 0.5).

    .venv/bin/python bench/webex.py                  # 100 users × 10 events
"""

from __future__ import annotations

import argparse
import asyncio
import json
import tempfile
import time
import warnings
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote

import aiohttp

from hybrid_calendar.builder import build_gateway
from hybrid_calendar.engine.sync import sync_user
from hybrid_calendar.gateway import Gateway
from hybrid_calendar.loading import load_config
from hybrid_calendar.models import Organisation, User, UserState
from hybrid_calendar_google.context import context as google_context
from hybrid_calendar_google_emulator.testing import RunningEmulator, running_emulator
from hybrid_calendar_webex.context import context as webex_context
from hybrid_calendar_webex_emulator.testing import RunningWebexEmulator, running_webex_emulator

DOMAIN = "bench.example.com"
UNLIMITED = 100_000_000


def _parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--users", type=int, default=100)
    parser.add_argument("--events", type=int, default=10, help="keyword events per user")
    parser.add_argument("--concurrency", type=int, default=32)
    return parser.parse_args()


async def _limited(items: list[Any], limit: int, fn: Callable[[Any], Awaitable[int]]) -> int:
    semaphore = asyncio.Semaphore(limit)

    async def one(item: Any) -> int:
        async with semaphore:
            return await fn(item)

    return sum(await asyncio.gather(*(one(item) for item in items)))


def _seed(google: RunningEmulator, emails: list[str], events: int) -> None:
    base = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) + timedelta(days=1)
    for u, email in enumerate(emails):
        for e in range(events):
            start = base + timedelta(hours=e * 5 + u % 3)
            google.state.insert_event(email, {
                "summary": f"Review {e}", "location": "@webex:onetime",
                "description": "Agenda: figures",
                "start": {"dateTime": start.isoformat()},
                "end": {"dateTime": (start + timedelta(minutes=30)).isoformat()},
                "attendees": [{"email": email, "organizer": True},
                              {"email": emails[(u + 1) % len(emails)]}]})


class Raw:
    """The same Google and Webex calls as the gateway, made with bare aiohttp."""

    def __init__(self, session: aiohttp.ClientSession, google_url: str, webex_url: str,
                 google_tokens: dict[str, str], webex_token: str) -> None:
        self.session = session
        self.google_url = google_url
        self.webex_url = webex_url
        self.google_tokens = google_tokens
        self.webex = {"Authorization": f"Bearer {webex_token}"}

    async def user(self, email: str) -> int:
        google = {"Authorization": f"Bearer {self.google_tokens[email]}"}
        calendar = f"{self.google_url}/calendar/v3/calendars/{quote(email, safe='')}"
        async with self.session.get(f"{calendar}/events", headers=google,
                                    params={"singleEvents": "true"}) as response:
            items = (await response.json())["items"]
        for event in items:
            start = datetime.fromisoformat(event["start"]["dateTime"])
            end = datetime.fromisoformat(event["end"]["dateTime"])
            tag = f"gcal:{event['id']}"
            async with self.session.get(f"{self.webex_url}/meetings", headers=self.webex,
                                        params={"integrationTag": tag, "hostEmail": email,
                                                "from": _z(start - timedelta(days=1)),
                                                "to": _z(end + timedelta(days=1))}) as r:
                await r.json()
            async with self.session.post(f"{self.webex_url}/meetings", headers=self.webex,
                                         json={"title": event["summary"], "start": _z(start),
                                               "end": _z(end), "hostEmail": email,
                                               "sendEmail": False,
                                               "integrationTags": [tag]}) as r:
                meeting = await r.json()
            async with self.session.get(
                    f"{self.google_url}/calendar/v3/users/me/settings/locale",
                    headers=google) as r:
                await r.json()
            async with self.session.patch(
                    f"{calendar}/events/{event['id']}",
                    headers={**google, "If-Match": event["etag"]},
                    json={"location": meeting["webLink"],
                          "description": event.get("description", "") + "\n\n"
                          + meeting["webLink"],
                          "extendedProperties": {"private": {"hybridCalendarJoin": "x"}}}
                    ) as r:
                await r.json()
        return len(items)


def _z(when: datetime) -> str:
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _counts(google: RunningEmulator, webex: RunningWebexEmulator, emails: set[str]
            ) -> tuple[int, int, int, int]:
    google_calls = [r for r in google.state.request_log if r.user in emails]
    google_writes = [r for r in google_calls if r.method in ("PATCH", "PUT", "POST")
                     and "/events" in r.path and "watch" not in r.path]
    creates = [r for r in webex.state.request_log if r[0] == "POST" and r[1].endswith(
        "/meetings")]
    return len(google_calls), len(google_writes), len(webex.state.request_log), len(creates)


async def _run(args: argparse.Namespace, google: RunningEmulator,
               webex: RunningWebexEmulator, raw_users: list[str], gw_users: list[str]
               ) -> None:
    app = webex.state.create_service_app("Bench")
    webex.state.authorize_service_app(app.application_id)
    with tempfile.TemporaryDirectory() as data_dir:
        config, pm = load_config(overrides={
            "plugins": {"enabled": ["google", "join_info", "kms_local", "webex"],
                        "load_entrypoints": False},
            "gateway": {"data_dir": data_dir, "synchronous": "NORMAL"},
            "quota": {"project_per_minute": UNLIMITED, "user_per_minute": UNLIMITED},
            "google": {"service_account_json": json.dumps(google.service_account_info),
                       "calendar_base_url": google.base_url + "/calendar/v3",
                       "gmail_base_url": google.base_url},
            "webex": {"api_base_url": webex.api_base, "service_app_id": app.application_id,
                      "client_id": app.client_id, "client_secret": app.client_secret,
                      "applications_token": webex.admin_token,
                      "target_org_id": webex.state.org_id, "rate_per_minute": UNLIMITED},
        }, environ={})
        gateway = build_gateway(config, pm)
        await gateway.store.open()
        try:
            await _measure(args, gateway, google, webex, raw_users, gw_users)
        finally:
            await gateway.aclose()
            await gateway.store.close()


async def _measure(args: argparse.Namespace, gateway: Gateway, google: RunningEmulator,
                   webex: RunningWebexEmulator, raw_users: list[str], gw_users: list[str]
                   ) -> None:
    await gateway.store.put_organisation(Organisation("bench", "Bench", DOMAIN))
    users = [User(id=f"u{i}", org_id="bench", email=e, state=UserState.ACTIVE)
             for i, e in enumerate(gw_users)]
    for user in users:
        await gateway.store.put_user(user)
    gclient = await google_context(gateway).client(gateway, users[0])
    tokens = {e: await gclient.tokens.token(e) for e in raw_users + gw_users}  # untimed
    webex_token = await webex_context(gateway).client(gateway, "bench").tokens.access_token()

    connector = aiohttp.TCPConnector(limit=100)
    async with aiohttp.ClientSession(connector=connector) as session:
        raw = Raw(session, google.base_url, webex.api_base, tokens, webex_token)
        before = _counts(google, webex, set(raw_users))
        started = time.perf_counter()
        raw_events = await _limited(raw_users, args.concurrency, raw.user)
        raw_seconds = time.perf_counter() - started
        after = _counts(google, webex, set(raw_users))
    raw_calls = [a - b for a, b in zip(after, before, strict=True)]

    before = _counts(google, webex, set(gw_users))
    started = time.perf_counter()
    await _limited(users, args.concurrency, lambda u: sync_user(gateway, u))
    gw_seconds = time.perf_counter() - started
    after = _counts(google, webex, set(gw_users))
    gw_calls = [a - b for a, b in zip(after, before, strict=True)]
    gw_events = len(gw_users) * args.events
    made = len([m for m in webex.state.meetings.values() if m.get("hostEmail") in gw_users])

    print(f"{len(gw_users)} users × {args.events} @webex:onetime events, concurrency "
          f"{args.concurrency}; Webex meetings made by the gateway: {made}")
    for name, events, seconds, calls in (("raw", raw_events, raw_seconds, raw_calls),
                                         ("gateway", gw_events, gw_seconds, gw_calls)):
        google_calls, google_writes, webex_calls, creates = calls
        print(f"  {name:<8} {events / seconds:8.0f} events/s  per event: Google "
              f"{google_calls / events:.2f} calls ({google_writes / events:.2f} writes), "
              f"Webex {webex_calls / events:.2f} calls ({creates / events:.2f} creates)")
    ratio = (gw_events / gw_seconds) / (raw_events / raw_seconds)
    g_calls, g_writes, w_calls, w_creates = (c / gw_events for c in gw_calls)
    print(f"gateway {gw_events / gw_seconds:.0f} events/s vs raw aiohttp "
          f"{raw_events / raw_seconds:.0f} events/s; per event Google {g_calls:.2f} calls "
          f"({g_writes:.2f} writes), Webex {w_calls:.2f} calls ({w_creates:.2f} creates); "
          f"ratio {ratio:.2f} (target >= 0.50)")


def main() -> None:
    args = _parse()
    warnings.simplefilter("ignore", ResourceWarning)
    raw_users = [f"raw{i}@{DOMAIN}" for i in range(args.users)]
    gw_users = [f"user{i}@{DOMAIN}" for i in range(args.users)]
    with running_emulator(domain=DOMAIN, users=raw_users + gw_users, project_rpm=UNLIMITED,
                          user_rpm=UNLIMITED) as google, \
            running_webex_emulator(DOMAIN, raw_users + gw_users) as webex:
        _seed(google, raw_users, args.events)
        _seed(google, gw_users, args.events)
        asyncio.run(_run(args, google, webex, raw_users, gw_users))


if __name__ == "__main__":
    main()
