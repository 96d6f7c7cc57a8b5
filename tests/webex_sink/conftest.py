"""The whole gateway against both emulators: Google Calendar and Webex, over loopback.

The gateway runs under uvicorn in the test's event loop with the real plugins (``google``,
``join_info``, ``kms_local``, ``webex``) and a :class:`ManualClock`; the Google emulator
and the Webex emulator run in their own threads. The Webex sink acts as a Service App the
emulated organisation's administrator authorised, and sends Join cards as a bot.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn

from hybrid_calendar.app import create_app
from hybrid_calendar.builder import build_gateway
from hybrid_calendar.clock import ManualClock
from hybrid_calendar.listening import until_answering
from hybrid_calendar.loading import load_config
from hybrid_calendar.prompt_server import PromptServer
from hybrid_calendar_google_emulator.testing import RunningEmulator, running_emulator
from hybrid_calendar_webex.context import context
from hybrid_calendar_webex_emulator.testing import (
    RunningWebexEmulator,
    running_webex_emulator,
)

from ..engine.conftest import (  # noqa: F401 (the log check is an autouse fixture)
    ADMIN_TOKEN,
    DOMAIN,
    CaptureSink,
    Stack,
    free_port,
    logs_carry_no_personal_data,
)

ALICE, BOB, CAROL, DAVE = (f"{n}@{DOMAIN}" for n in ("alice", "bob", "carol", "dave"))
"""Alice, Bob and Carol have Webex accounts (Alice and Bob with Calling); Dave has none."""
ROOM = f"room-1@{DOMAIN}"


def at(hours: float, minutes: int = 30, **extra: Any) -> dict[str, Any]:
    """A Google event body starting ``hours`` from now, lasting ``minutes``."""
    start = (datetime.now(UTC) + timedelta(hours=hours)).replace(second=0, microsecond=0)
    return {"start": {"dateTime": start.isoformat(), "timeZone": "Europe/Berlin"},
            "end": {"dateTime": (start + timedelta(minutes=minutes)).isoformat(),
                    "timeZone": "Europe/Berlin"}, **extra}


def insert_room_event(world: WebexWorld, summary: str, hours: float, *,
                      organiser: str = ALICE, **extra: Any) -> dict[str, Any]:
    """An event of ``organiser``'s inviting Bob and the room, with a join link to parse."""
    return world.google.state.insert_event(organiser, at(
        hours, summary=summary, location="https://acme.zoom.us/j/12345678",
        attendees=[{"email": BOB}, {"email": ROOM, "resource": True}], **extra))


def room_bookings(world: WebexWorld) -> list[dict[str, Any]]:
    """The bookings the room's one device shows, in start order."""
    [device] = list(world.webex.state.devices)
    return list(world.webex.state.device_bookings(device))


def room_titles(world: WebexWorld) -> list[str]:
    """The titles of the bookings the room's one device shows, in start order."""
    return [b["Title"] for b in room_bookings(world)]


@dataclass
class WebexWorld:
    """Both emulators, the Service App and the bot."""

    google: RunningEmulator
    webex: RunningWebexEmulator
    webex_settings: dict[str, Any]
    tmp_path: Path

    def meetings(self, host: str | None = None) -> list[dict[str, Any]]:
        """Webex meeting series in the emulator (of ``host``, if given)."""
        with self.webex.state.lock:
            items = [dict(m) for m in self.webex.state.meetings.values()]
        return [m for m in items if host is None or m.get("hostEmail") == host]

    def webex_calls(self, method: str, contains: str = "") -> int:
        """Webex requests seen by the emulator with ``method`` and ``contains`` in the
        path."""
        return len([r for r in self.webex.state.request_log
                    if r[0] == method and contains in r[1]])


@pytest.fixture
def world(tmp_path: Path) -> Iterator[WebexWorld]:
    with running_emulator(domain=DOMAIN, users=[ALICE, BOB, CAROL, DAVE]) as google, \
            running_webex_emulator(DOMAIN, [ALICE, BOB, CAROL], workspaces=1,
                                   calling_users=[ALICE, BOB]) as webex:
        app = webex.state.create_service_app("Gateway")
        webex.state.authorize_service_app(app.application_id)
        _, bot_token = webex.state.create_bot("Gateway", "gateway")
        settings = {"api_base_url": webex.api_base, "service_app_id": app.application_id,
                    "client_id": app.client_id, "client_secret": app.client_secret,
                    "applications_token": webex.admin_token, "bot_token": bot_token,
                    "target_org_id": webex.state.org_id}
        yield WebexWorld(google, webex, settings, tmp_path)


@pytest.fixture
def emulator(world: WebexWorld) -> RunningEmulator:
    """The Google emulator (its calendars hold what must never reach the logs)."""
    return world.google


def overrides(world: WebexWorld, port: int, webex: dict[str, Any] | None = None,
              database: str | None = None) -> dict[str, Any]:
    """The gateway's configuration for both emulators (on ``database`` when given, e.g.
    a ``postgresql://`` URL; else a SQLite file in the data directory)."""
    found: dict[str, Any] = {
        "plugins": {"enabled": ["google", "join_info", "kms_local", "webex"],
                    "load_entrypoints": False},
        "gateway": {"port": port, "public_url": f"http://127.0.0.1:{port}",
                    "data_dir": str(world.tmp_path / "data"), "admin_token": ADMIN_TOKEN,
                    "synchronous": "NORMAL", "gc_threshold": 0},
        "sync": {"sweep_seconds": 3600.0, "max_concurrency": 4,
                 "retry_base_seconds": 10.0, "retry_cap_seconds": 300.0},
        # tests deliver with notify.deliver_due; the engine's own outbox loop must not race
        "notifications": {"retry_base_seconds": 0.0, "poll_seconds": 3600.0},
        "google": {"service_account_json": json.dumps(world.google.service_account_info),
                   "calendar_base_url": world.google.base_url + "/calendar/v3",
                   "gmail_base_url": world.google.base_url},
        "webex": {**world.webex_settings, **(webex or {})},
    }
    if database is not None:
        found["gateway"]["database"] = database
    return found


@asynccontextmanager
async def running_gateway(world: WebexWorld, *, provision: bool = True,
                          webex: dict[str, Any] | None = None,
                          database: str | None = None,
                          public_url: str | None = None) -> AsyncIterator[Stack]:
    """Start a gateway on ``world`` (its data directory survives a restart; two running
    at once on one ``database`` are two processes sharing it; ``public_url``: a load
    balancer's address in front of several, else its own)."""
    port = free_port()
    found = overrides(world, port, webex, database)
    if public_url is not None:
        found["gateway"]["public_url"] = public_url
    config, pm = load_config(None, overrides=found, environ={})
    gateway = build_gateway(config, pm, clock=ManualClock())
    server = PromptServer(uvicorn.Config(create_app(gateway), host="127.0.0.1", port=port,
                                           lifespan="on", log_config=None))
    task = asyncio.create_task(server.serve())
    base = f"http://127.0.0.1:{port}"
    await until_answering(base + "/healthz", alive=lambda: not task.done())
    try:
        async with httpx.AsyncClient(base_url=base, timeout=30, headers={
                "Authorization": f"Bearer {ADMIN_TOKEN}"}) as admin:
            stack = Stack(world.google, gateway, admin, CaptureSink(), base)
            if provision:
                await stack.provision()
            yield stack
    finally:
        server.should_exit = True
        await task


@pytest.fixture
async def stack(world: WebexWorld) -> AsyncIterator[Stack]:
    async with running_gateway(world) as stack:
        yield stack


@pytest.fixture
async def org_stack(world: WebexWorld) -> AsyncIterator[Stack]:
    """A gateway started when the organisation already exists (so its start-up checks
    the organisation's Webex identity and registers its webhooks)."""
    async with running_gateway(world):
        pass  # provisions the organisation
    async with running_gateway(world, provision=False) as stack:
        yield stack


def webex_calls_of(stack: Stack) -> int:
    """Webex requests the gateway's sink sent."""
    return context(stack.gateway).calls()
