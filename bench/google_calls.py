"""Google calls and quota units per change, counted by the Google emulator.

The whole gateway (HTTP app, engine, store, Google provider, join_info, Webex sink) runs
in this process against both emulators on loopback, with push notifications over HTTP.
Every request the Google emulator serves is in its request log with the quota units it
charged (Google's table: each ``*.patch`` costs 3, everything else 1), so the counts are
the emulator's, not the gateway's own idea of them. Phases, each on the same users:

* **onboarding** — U users × E seeded events (a fifth with ``@webex``, a fifth with
  ``@meet``) activated through the admin API until the queue is empty: validation,
  channel, presence, full sync, every keyword event's meeting and invite write;
* **change** — one ordinary edit (a title) per user: push → incremental sync;
  (the edited events invite nobody else, so no other calendar changes with them);
* **@webex** — one Location edit to ``@webex`` per user (Webex Personal Room);
* **@meet** — one Location edit to ``@meet`` per user (Google Meet conference).

Each phase prints calls and units per user (or per change) by operation. The floor: a
change costs one ``events.list``; a keyword event one list, one write and one more list
for the echo of that write (which writes nothing). The last line is
``google_calls: change C calls/U units, @webex …, @meet …, onboarding … per user``.

    .venv/bin/python bench/google_calls.py                 # 20 users × 50 events
    .venv/bin/python bench/google_calls.py --users 5 --events 10
"""

from __future__ import annotations

import argparse
import asyncio
import json
import socket
import sys
import tempfile
from collections import Counter
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import uvicorn

from hybrid_calendar.app import create_app
from hybrid_calendar.builder import build_gateway
from hybrid_calendar.clock import ManualClock
from hybrid_calendar.gateway import Gateway
from hybrid_calendar.listening import until_answering
from hybrid_calendar.loading import load_config
from hybrid_calendar.prompt_server import PromptServer
from hybrid_calendar_google_emulator.testing import RunningEmulator, running_emulator
from hybrid_calendar_webex_emulator.testing import RunningWebexEmulator, running_webex_emulator

DOMAIN = "example.com"
ADMIN_TOKEN = "bench-admin-token-0123456789abcdef"


def _parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Google calls and units per change")
    parser.add_argument("--users", type=int, default=20, help="users (default 20)")
    parser.add_argument("--events", type=int, default=50,
                        help="seeded events per user (default 50)")
    return parser.parse_args()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _overrides(google: RunningEmulator, webex: RunningWebexEmulator, data: Path,
               port: int) -> dict[str, Any]:
    app = webex.state.create_service_app("Gateway")
    webex.state.authorize_service_app(app.application_id)
    return {
        "plugins": {"enabled": ["google", "join_info", "kms_local", "webex"],
                    "load_entrypoints": False},
        "gateway": {"port": port, "public_url": f"http://127.0.0.1:{port}",
                    "data_dir": str(data), "admin_token": ADMIN_TOKEN,
                    "synchronous": "NORMAL"},
        "sync": {"sweep_seconds": 3600.0, "max_concurrency": 8},
        "notifications": {"poll_seconds": 3600.0},
        "quota": {"project_per_minute": 100_000_000, "user_per_minute": 100_000_000},
        "google": {"service_account_json": json.dumps(google.service_account_info),
                   "calendar_base_url": google.base_url + "/calendar/v3",
                   "gmail_base_url": google.base_url},
        "webex": {"api_base_url": webex.api_base, "service_app_id": app.application_id,
                  "client_id": app.client_id, "client_secret": app.client_secret,
                  "applications_token": webex.admin_token,
                  "target_org_id": webex.state.org_id},
        "join_info": {"keywords": ["webex=personal_room", "meet=google_meet"]},
    }


class Bench:
    """The running gateway and emulators, and the phase counters."""

    def __init__(self, google: RunningEmulator, gateway: Gateway,
                 admin: httpx.AsyncClient) -> None:
        self.google = google
        self.gateway = gateway
        self.admin = admin
        self.mark = 0

    async def idle(self) -> None:
        """Until no job is due or running and every push message was delivered."""
        push = self.google.state.push
        engine = self.gateway.engine
        assert engine is not None
        while True:
            await asyncio.to_thread(push.wait_idle, 60.0)
            delivered = len(push.deliveries)
            await engine.until_idle()
            await asyncio.to_thread(push.wait_idle, 60.0)
            if len(push.deliveries) == delivered:
                return

    def phase(self) -> tuple[Counter[str], Counter[str]]:
        """Calls and units by operation since the last phase; then a minute passes on
        the gateway's clock (each channel's push allowance refills, nothing else is due)."""
        clock = self.gateway.clock
        assert isinstance(clock, ManualClock)
        clock.advance(timedelta(minutes=1))
        with self.google.state.lock:
            records = self.google.state.request_log[self.mark:]
            self.mark = len(self.google.state.request_log)
        calls: Counter[str] = Counter()
        units: Counter[str] = Counter()
        for record in records:
            name = (record.operation or record.path).removeprefix("calendar.")
            calls[name] += 1
            units[name] += record.units
        return calls, units


def _report(title: str, calls: Counter[str], units: Counter[str], per: int) -> str:
    total_calls, total_units = sum(calls.values()) / per, sum(units.values()) / per
    detail = ", ".join(f"{name} {count / per:g}" for name, count in sorted(calls.items()))
    print(f"{title:<11} {total_calls:6.2f} calls {total_units:6.2f} units  ({detail})")
    return f"{total_calls:g} calls/{total_units:g} units"


async def _edit_all(bench: Bench, emails: list[str], change: Callable[[str], dict[str, Any]]
                    ) -> None:
    state = bench.google.state
    for email in emails:
        with state.lock:
            event_id = next(e["id"] for e in state.calendars[email].events.values()
                            if e.get("status") != "cancelled"
                            and "@" not in str(e.get("location") or "")
                            and "hybridCalendarJoin" not in str(e.get("extendedProperties"))
                            and len(e.get("attendees") or []) <= 1)
        state.patch_event(email, event_id, change(email))
    await bench.idle()


async def run(args: argparse.Namespace) -> None:
    emails = [f"user{i:04d}@{DOMAIN}" for i in range(args.users)]
    with running_emulator(domain=DOMAIN, users=[]) as google, \
            running_webex_emulator(DOMAIN, emails) as webex, \
            tempfile.TemporaryDirectory() as tmp:
        with google.state.lock:
            google.state.bulk_seed(emails, args.events)
        port = _free_port()
        config, pm = load_config(None, overrides=_overrides(google, webex, Path(tmp), port),
                                 environ={})
        gateway = build_gateway(config, pm, clock=ManualClock())
        server = PromptServer(uvicorn.Config(create_app(gateway), host="127.0.0.1",
                                               port=port, lifespan="on", log_config=None))
        task = asyncio.create_task(server.serve())
        base = f"http://127.0.0.1:{port}"
        await until_answering(base + "/healthz", alive=lambda: not task.done())
        try:
            async with httpx.AsyncClient(base_url=base, timeout=60, headers={
                    "Authorization": f"Bearer {ADMIN_TOKEN}"}) as admin:
                bench = Bench(google, gateway, admin)
                await admin.post("/api/v1/organisations", json={
                    "id": "org1", "name": "Example", "domain": DOMAIN})
                for email in emails:
                    response = await admin.post("/api/v1/organisations/org1/users",
                                                json={"email": email})
                    response.raise_for_status()
                await bench.idle()
                keyword_events = args.events * 2 // 5
                print(f"{args.users} users × {args.events} events ({keyword_events} with a "
                      "keyword each); per user or per change:")
                onboarding = _report("onboarding", *bench.phase(), args.users)
                await _edit_all(bench, emails, lambda e: {"summary": "Edited"})
                change = _report("change", *bench.phase(), args.users)
                await _edit_all(bench, emails, lambda e: {"location": "Room 9 @webex"})
                webex_kw = _report("@webex", *bench.phase(), args.users)
                await _edit_all(bench, emails, lambda e: {"location": "Room 9 @meet"})
                meet_kw = _report("@meet", *bench.phase(), args.users)
        finally:
            server.should_exit = True
            await task
    print(f"google_calls: change {change}, @webex {webex_kw}, @meet {meet_kw}, "
          f"onboarding {onboarding} per user")


def main() -> None:
    """Entry point (see the module docstring)."""
    asyncio.run(run(_parse()))
    sys.stdout.flush()


if __name__ == "__main__":
    main()
