"""A gateway with the ``people`` plugin under uvicorn on loopback, time on a manual clock.

Users and meetings are put straight into the (real, encrypted) store; the engine is not
started, so nothing moves unless a test moves it (``deliver_due``, the clock). Tests that
use ``store_url`` (``stack`` does) run twice: on a SQLite file and on the test run's real
PostgreSQL server (a fresh schema each).
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import subprocess
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import anyio.to_thread
import httpx
import pytest
import uvicorn

from hybrid_calendar.app import create_app
from hybrid_calendar.builder import build_gateway
from hybrid_calendar.clock import ManualClock
from hybrid_calendar.engine import notify
from hybrid_calendar.gateway import Gateway
from hybrid_calendar.listening import until_answering
from hybrid_calendar.loading import load_config
from hybrid_calendar.models import (
    JoinInfo,
    Meeting,
    Notification,
    Organisation,
    User,
    UserState,
)
from hybrid_calendar.prompt_server import PromptServer

ADMIN_TOKEN = "people-admin-token-0123456789"
NOW = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def meeting(user: User, event_id: str, title: str, start: datetime, minutes: int = 30,
            *, url: str | None = "https://example.webex.com/meet/room", all_day: bool = False,
            attendees: tuple[str, ...] = ()) -> Meeting:
    join = None if url is None else JoinInfo(provider="webex", url=url, source="location",
                                             dial="room@example.webex.com")
    end = start + (timedelta(days=1) if all_day else timedelta(minutes=minutes))
    return Meeting(user_id=user.id, event_id=event_id, calendar_id="primary",
                   status="confirmed", start=start, end=end, title=title,
                   organizer=user.email, attendees=attendees or (user.email,), join=join,
                   all_day=all_day)


@dataclass
class PeopleStack:
    """A running gateway, its manual clock and an admin client."""

    gateway: Gateway
    clock: ManualClock
    admin: httpx.AsyncClient
    base_url: str
    app: Any
    users: dict[str, User] = field(default_factory=dict)

    async def add_user(self, name: str, timezone: str | None = "Europe/Berlin") -> User:
        user = User(id=f"u-{name}", org_id="org1", email=f"{name}@example.com",
                    state=UserState.ACTIVE, timezone=timezone)
        await self.gateway.store.put_user(user)
        self.users[name] = user
        return user

    async def put_meetings(self, user: User, meetings: list[Meeting]) -> None:
        await self.gateway.store.apply_changes(user, meetings, [], "cursor-1",
                                               full_sync=False, synced_at=self.clock.now())

    async def token(self, user: User, **body: Any) -> str:
        response = await self.admin.post(f"/api/v1/users/{user.id}/access", json=body)
        assert response.status_code == 201, response.text
        return str(response.json()["secret"])

    def client(self, token: str | None = None) -> httpx.AsyncClient:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return httpx.AsyncClient(base_url=self.base_url, headers=headers, timeout=30)


def people_overrides(tmp_path: Path, port: int, store_url: str | None = None,
                     **sections: dict[str, Any]) -> dict[str, Any]:
    overrides: dict[str, dict[str, Any]] = {
        "plugins": {"enabled": ["join_info", "kms_local", "people"],
                    "load_entrypoints": False},
        "gateway": {"port": port, "public_url": f"http://127.0.0.1:{port}",
                    "data_dir": str(tmp_path / "data"), "admin_token": ADMIN_TOKEN,
                    "synchronous": "NORMAL", "gc_threshold": 0,
                    **({"database": store_url} if store_url else {})},
        "sync": {"sweep_seconds": 3600.0},
        "people": {"webhook_allow_http": True, "stream_ping_seconds": 0.3,
                   "run_workers": False},
    }
    for name, values in sections.items():
        overrides.setdefault(name, {}).update(values)
    return overrides


@contextlib.asynccontextmanager
async def running_stack(tmp_path: Path, clock: ManualClock, *, port: int | None = None,
                        store_url: str | None = None, **sections: dict[str, Any]
                        ) -> AsyncIterator[PeopleStack]:
    """Start a gateway (organisation ``org1`` provisioned) and stop it afterwards; on
    ``store_url`` (PostgreSQL) when given, else on a SQLite file under ``tmp_path``."""
    port = port or free_port()
    config, pm = load_config(None, overrides=people_overrides(tmp_path, port, store_url,
                                                              **sections), environ={})
    gateway = build_gateway(config, pm, clock=clock)
    app = create_app(gateway, start_engine=False)
    server = PromptServer(uvicorn.Config(app, host="127.0.0.1", port=port, lifespan="on",
                                           log_config=None, timeout_graceful_shutdown=1))
    task = asyncio.create_task(server.serve())
    base = f"http://127.0.0.1:{port}"
    await until_answering(base + "/healthz", alive=lambda: not task.done())
    try:
        async with httpx.AsyncClient(base_url=base, timeout=30, headers={
                "Authorization": f"Bearer {ADMIN_TOKEN}"}) as admin:
            await gateway.store.put_organisation(Organisation(id="org1", name="Example",
                                                              domain="example.com"))
            yield PeopleStack(gateway, clock, admin, base, app)
    finally:
        server.should_exit = True
        await task


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(NOW)


@pytest.fixture(params=["sqlite", "postgres"])
def store_url(request: pytest.FixtureRequest) -> str | None:
    """None for a SQLite file, or the URL of a fresh PostgreSQL schema."""
    if request.param == "sqlite":
        return None
    return str(request.getfixturevalue("postgres_url"))


@pytest.fixture
async def stack(tmp_path: Path, clock: ManualClock, store_url: str | None
                ) -> AsyncIterator[PeopleStack]:
    async with running_stack(tmp_path, clock, store_url=store_url) as running:
        yield running


async def offer(stack: PeopleStack, notification: Notification) -> None:
    """Put a notification through the core's outbox, which offers it to every sink."""
    await notify.notify_now(stack.gateway, notification.user, notification.kind,
                            notification.payload, notification.key)


@pytest.fixture
def stored_bytes(request: pytest.FixtureRequest, tmp_path: Path, store_url: str | None
                 ) -> Callable[[], Awaitable[bytes]]:
    """What the store holds on disk: the SQLite files, or a ``pg_dump`` of the schema."""
    async def sqlite_files() -> bytes:
        return b"".join(p.read_bytes() for p in (tmp_path / "data").glob("gateway.sqlite3*"))

    if store_url is None:
        return sqlite_files
    server = request.getfixturevalue("postgres_server")
    schema = request.getfixturevalue("postgres_schema")[1]

    async def dump() -> bytes:
        return await anyio.to_thread.run_sync(lambda: subprocess.run(
            [str(server.bin_dir / "pg_dump"), "--schema", schema, server.url],
            capture_output=True, check=True).stdout)
    return dump
