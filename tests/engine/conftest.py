"""The whole gateway (HTTP app, engine, store, crypto) against the Google emulator.

Both servers run for real on loopback: the emulator in its own thread, the gateway under
uvicorn in the test's event loop, so push notifications travel over HTTP. The gateway's
clock is a :class:`ManualClock`: a job's retry runs when a test moves the clock past it
(:meth:`Stack.advance`), and waiting is on events (:meth:`Stack.idle`), never by sleeping.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import json
import logging
import socket
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote

import anyio
import httpx
import pytest
import uvicorn

from hybrid_calendar import hookimpl
from hybrid_calendar.app import create_app
from hybrid_calendar.builder import build_gateway
from hybrid_calendar.clock import ManualClock
from hybrid_calendar.engine.engine import Engine
from hybrid_calendar.gateway import Gateway
from hybrid_calendar.listening import until_answering
from hybrid_calendar.loading import load_config
from hybrid_calendar.logs import RedactingFilter
from hybrid_calendar.models import (
    DeliveryReceipt,
    Meeting,
    Notification,
    NotificationKind,
    User,
)
from hybrid_calendar.prompt_server import PromptServer
from hybrid_calendar_google_emulator.testing import RunningEmulator, running_emulator

DOMAIN = "example.com"
ALICE, BOB, CAROL = (f"{name}@{DOMAIN}" for name in ("alice", "bob", "carol"))
ADMIN_TOKEN = "test-admin-token-0123456789"
RETRY_BASE = timedelta(seconds=10)
RETRY_CAP = timedelta(minutes=5)
"""The stack's ``sync.retry_*_seconds``: a retry is due at most RETRY_CAP after a failure."""


class CaptureSink:
    """A sink plugin that records what the engine delivers (registered like any plugin)."""

    def __init__(self) -> None:
        self.delivered: list[Notification] = []
        self.fail_next = 0

    @hookimpl
    def register_delivery_kinds(self, register: Callable[[NotificationKind], None]) -> None:
        """Every kind."""
        for kind in NotificationKind:
            register(kind)

    @hookimpl
    def deliver_notification(self, gateway: Gateway, notification: Notification
                             ) -> DeliveryReceipt:
        """Record the notification once per key, or fail on purpose when asked to."""
        if self.fail_next:
            self.fail_next -= 1
            raise RuntimeError("device unreachable")
        if all(n.key != notification.key for n in self.delivered):
            self.delivered.append(notification)
        return DeliveryReceipt.delivered()

    def of_kind(self, kind: str) -> list[Notification]:
        return [n for n in self.delivered if n.kind == kind]


@dataclass
class Stack:
    """A running emulator + gateway pair and an admin client."""

    emu: RunningEmulator
    gateway: Gateway
    admin: httpx.AsyncClient
    sink: CaptureSink
    base_url: str
    user_ids: dict[str, str] = field(default_factory=dict)

    async def provision(self) -> None:
        response = await self.admin.post("/api/v1/organisations",
                                          json={"id": "org1", "name": "Example",
                                                "domain": DOMAIN})
        assert response.status_code == 201, response.text

    async def activate(self, email: str) -> dict[str, Any]:
        response = await self.admin.post("/api/v1/organisations/org1/users",
                                         json={"email": email})
        assert response.status_code == 202, response.text
        self.user_ids[email] = response.json()["id"]
        await self.idle()
        return await self.user(email)

    async def deactivate(self, email: str) -> None:
        """Deactivate the user through the admin API and wait until it is done."""
        response = await self.admin.post(f"/api/v1/users/{self.user_ids[email]}/deactivate")
        assert response.status_code == 202, response.text
        await self.idle()
        assert (await self.user(email))["state"] == "inactive"

    async def user(self, email: str) -> dict[str, Any]:
        users = (await self.admin.get("/api/v1/organisations/org1/users")).json()["users"]
        return next(u for u in users if u["email"] == email)

    async def meetings(self, email: str) -> list[dict[str, Any]]:
        response = await self.admin.get(f"/api/v1/users/{self.user_ids[email]}/meetings")
        assert response.status_code == 200, response.text
        return list(response.json()["meetings"])

    @property
    def clock(self) -> ManualClock:
        """The gateway's clock, which only moves when a test moves it."""
        assert isinstance(self.gateway.clock, ManualClock)
        return self.gateway.clock

    @property
    def engine(self) -> Engine:
        """The running engine."""
        assert self.gateway.engine is not None
        return self.gateway.engine

    async def idle(self, limit: float = 20.0) -> None:
        """Wait until no job is due or running and every push message was delivered.

        Jobs due later (a retry after backoff) do not count: :meth:`advance` runs them.
        """
        push = self.emu.state.push
        with anyio.fail_after(limit):
            while True:
                assert await asyncio.to_thread(push.wait_idle, limit), "push still busy"
                delivered = len(push.deliveries)
                await self.engine.until_idle()  # jobs may write to Google, which pushes
                assert await asyncio.to_thread(push.wait_idle, limit), "push still busy"
                if len(push.deliveries) == delivered:
                    return

    async def advance(self, delta: timedelta) -> None:
        """Move the gateway's clock forward, then wait until what became due has run."""
        self.clock.advance(delta)
        await self.idle()

    async def run_retries(self) -> int:
        """Advance the clock by the longest backoff until no job waits for a retry.

        Returns how many times the clock moved (at most ``sync.job_max_attempts``).
        """
        moves = 0
        while (await self.gateway.store.job_counts()).get("queued"):
            assert moves < int(self.gateway.config.get("sync", "job_max_attempts")), \
                "a job keeps being retried past sync.job_max_attempts"
            await self.advance(RETRY_CAP)
            moves += 1
        return moves

    def calls(self, user: str, method: str | None = None, contains: str = "") -> list[Any]:
        return [r for r in self.emu.state.request_log if r.user == user
                and (method is None or r.method == method) and contains in r.path]


class MirrorRecorder:
    """A ``mirror_meetings`` plugin that records each call's event ids."""

    def __init__(self) -> None:
        self.calls: list[tuple[list[str], list[str]]] = []

    @hookimpl
    def mirror_meetings(self, gateway: Gateway, user: User, meetings: Sequence[Meeting],
                        deleted: Sequence[str]) -> None:
        """Record the meetings and deleted ids given."""
        self.calls.append((sorted(m.event_id for m in meetings), sorted(deleted)))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def emulator() -> Iterator[RunningEmulator]:
    with running_emulator(domain=DOMAIN, users=[ALICE, BOB, CAROL]) as emu:
        yield emu


def gateway_overrides(emu: RunningEmulator, tmp_path: Path, port: int) -> dict[str, Any]:
    return {
        "plugins": {"enabled": ["google", "join_info", "kms_local"], "load_entrypoints": False},
        "gateway": {"port": port, "public_url": f"http://127.0.0.1:{port}",
                    "data_dir": str(tmp_path / "data"), "admin_token": ADMIN_TOKEN,
                    "synchronous": "NORMAL",
                    # the gateway shares this process with pytest: leave its GC alone
                    "gc_threshold": 0},
        "sync": {"sweep_seconds": 3600.0, "max_concurrency": 4,
                 "retry_base_seconds": RETRY_BASE.total_seconds(),
                 "retry_cap_seconds": RETRY_CAP.total_seconds()},
        # a failed delivery is due again at once; the tests run the outbox loop's body
        # themselves (the loop's own 5-second round is kept out of their way)
        "notifications": {"retry_base_seconds": 0.0, "poll_seconds": 5.0},
        "google": {"service_account_json": json.dumps(emu.service_account_info),
                   "calendar_base_url": emu.base_url + "/calendar/v3",
                   "gmail_base_url": emu.base_url},
        "join_info": {"keywords": ["webex=personal_room", "meet=google_meet"]},
    }


@contextlib.asynccontextmanager
async def running_stack(emulator: RunningEmulator, tmp_path: Path, *,
                        plugins: list[str] | None = None,
                        database: str | None = None,
                        deliver: bool = True) -> AsyncIterator[Stack]:
    """A gateway served by uvicorn against ``emulator``, with ``org1`` provisioned
    (``plugins``: the built-in plugins to enable instead of the stack's three;
    ``database``: a store URL instead of the SQLite file in ``tmp_path``; ``deliver``:
    whether the stack's capturing sink is enabled, else nothing delivers)."""
    port = free_port()
    overrides = gateway_overrides(emulator, tmp_path, port)
    if plugins is not None:
        overrides["plugins"]["enabled"] = plugins
    if database is not None:
        overrides["gateway"]["database"] = database
    config, pm = load_config(None, overrides=overrides, environ={})
    sink = CaptureSink()
    if deliver:
        pm.register(sink, name="capture")
    gateway = build_gateway(config, pm, clock=ManualClock())
    server = PromptServer(uvicorn.Config(create_app(gateway), host="127.0.0.1", port=port,
                                           lifespan="on", log_config=None))
    task = asyncio.create_task(server.serve())
    base = f"http://127.0.0.1:{port}"
    await until_answering(base + "/healthz", alive=lambda: not task.done())
    try:
        async with httpx.AsyncClient(base_url=base, timeout=30, headers={
                "Authorization": f"Bearer {ADMIN_TOKEN}"}) as admin:
            stack = Stack(emulator, gateway, admin, sink, base)
            await stack.provision()
            yield stack
    finally:
        server.should_exit = True
        await task


@pytest.fixture(params=["sqlite", "postgres"])
def store_url(request: pytest.FixtureRequest) -> str | None:
    """Each test using it runs twice: on the SQLite file of ``running_stack`` (``None``)
    and on a fresh PostgreSQL database (its URL)."""
    return None if request.param == "sqlite" else str(request.getfixturevalue("postgres_url"))


@pytest.fixture
async def stack(emulator: RunningEmulator, tmp_path: Path) -> AsyncIterator[Stack]:
    async with running_stack(emulator, tmp_path) as running:
        yield running


def _sensitive_values(emu: RunningEmulator) -> set[str]:
    """Titles, bodies, locations, addresses and links the emulator's calendars hold."""
    values = {ALICE, BOB, CAROL}
    with emu.state.lock:
        calendars = list(emu.state.calendars.values())
    for calendar in calendars:
        for event in list(getattr(calendar, "events", {}).values()):
            for key in ("summary", "description", "location"):
                text = str(event.get(key) or "").strip()
                if len(text) >= 6:
                    values.add(text)
            for attendee in event.get("attendees") or []:
                values.add(attendee.get("email", ""))
    values |= {quote(v, safe="") for v in values}  # as they would appear in URLs
    return {v for v in values if v}


@contextlib.contextmanager
def counting_user_listings(stack: Stack) -> Iterator[list[int]]:
    """Count the store's ``list_users`` calls (each decrypts every listed address) while
    the block runs: the one-element list holds the count."""
    store, count = stack.gateway.store, [0]
    original = store.list_users

    async def counting(**kwargs: Any) -> Any:
        count[0] += 1
        return await original(**kwargs)

    store.list_users = counting  # type: ignore[method-assign]
    try:
        yield count
    finally:
        del store.list_users


@pytest.fixture(autouse=True)
def logs_carry_no_personal_data(emulator: RunningEmulator) -> Iterator[None]:
    """Capture every log line at DEBUG, through the production filter, and scan it."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s %(message)s"))
    handler.addFilter(RedactingFilter())
    root = logging.getLogger()
    previous = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    try:
        yield
    finally:
        root.removeHandler(handler)
        root.setLevel(previous)
    text = stream.getvalue()
    leaked = sorted(v for v in _sensitive_values(emulator) if v in text)
    assert not leaked, f"personal data in logs: {leaked}"
