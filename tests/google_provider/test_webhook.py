"""The push receiver, served by uvicorn on loopback, in front of a real store and engine."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
import uvicorn
from starlette.applications import Starlette
from starlette.routing import BaseRoute

from hybrid_calendar.clock import ManualClock
from hybrid_calendar.engine.engine import Engine
from hybrid_calendar.listening import until_answering
from hybrid_calendar.models import Channel, User, UserState
from hybrid_calendar.prompt_server import PromptServer
from hybrid_calendar_google.push_guard import BURST
from hybrid_calendar_google.push_inbox import inbox

from .conftest import google_settings

ALICE = User(id="u1", org_id="org1", email="alice@example.com", state=UserState.ACTIVE)
TOKEN = "Zt6QYpA0m2kq6hS1cC3m4eFVb9x8wQn1t0aLr5sUu2Y"


async def _serve(app: Starlette) -> AsyncIterator[str]:
    """Serve ``app`` with uvicorn on a free loopback port; yields its base URL."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    server = PromptServer(uvicorn.Config(app, log_level="error", lifespan="off"))
    task = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        await until_answering(url + "/", alive=lambda: not task.done())
        yield url
    finally:
        server.should_exit = True
        await task
        sock.close()


@pytest.fixture
async def receiver(make_gateway: Any, sa_info: dict[str, str]) -> AsyncIterator[Any]:
    gateway = await make_gateway(google_settings(sa_info))
    gateway.engine = Engine(gateway)  # not started: queued jobs stay visible
    await gateway.store.put_user(ALICE)
    await gateway.store.put_channel(Channel("chan-1", "u1", "RES-1", TOKEN,
                                            datetime(2030, 1, 1, tzinfo=UTC)))
    routes: list[BaseRoute] = []
    gateway.hooks.register_routes(gateway, routes.append)
    async for url in _serve(Starlette(routes=routes)):
        async with httpx.AsyncClient(base_url=url) as client:
            yield gateway, client


def _headers(**overrides: str) -> dict[str, str]:
    headers = {"X-Goog-Channel-ID": "chan-1", "X-Goog-Channel-Token": TOKEN,
               "X-Goog-Resource-ID": "RES-1", "X-Goog-Resource-State": "exists",
               "X-Goog-Message-Number": "10",
               "X-Goog-Resource-URI": "https://www.googleapis.com/calendar/v3/calendars/x/events"}
    headers.update(overrides)
    return {k: v for k, v in headers.items() if v}


def channel_lookups(gateway: Any, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The ids the gateway's store is asked for channels by (``get_channel``), from now on
    (the store still answers)."""
    looked_up: list[str] = []
    get_channel = gateway.store.get_channel

    async def counting(channel_id: str) -> Any:
        looked_up.append(channel_id)
        return await get_channel(channel_id)
    monkeypatch.setattr(gateway.store, "get_channel", counting)
    return looked_up


async def _queued(gateway: Any) -> int:
    """Jobs in the store, once the push inbox handed over what it holds."""
    await inbox(gateway).drain()
    return sum((await gateway.store.job_counts()).values())


@pytest.mark.anyio
async def test_change_notification_enqueues_one_sync(receiver: Any) -> None:
    gateway, client = receiver
    response = await client.post("/webhooks/google", headers=_headers())
    assert response.status_code == 200
    assert await _queued(gateway) == 1


@pytest.mark.anyio
async def test_sync_message_is_acknowledged_without_a_job(receiver: Any) -> None:
    gateway, client = receiver
    response = await client.post("/webhooks/google",
                                 headers=_headers(**{"X-Goog-Resource-State": "sync",
                                                     "X-Goog-Message-Number": "1"}))
    assert response.status_code == 200
    assert await _queued(gateway) == 0


@pytest.mark.anyio
async def test_the_sync_message_warms_the_channel_for_the_first_change(
        receiver: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """The channel's ``sync`` message (sent as Google creates it) looks the channel up,
    so its first change notification is answered from memory: answering the sync message
    without the look-up moved it onto the first change's path and raised
    ``bench/webhook.py``'s p99 from 4 ms to 36-83 ms."""
    gateway, client = receiver
    looked_up = channel_lookups(gateway, monkeypatch)
    response = await client.post("/webhooks/google", headers=_headers(**{
        "X-Goog-Resource-State": "sync", "X-Goog-Message-Number": "1"}))
    assert response.status_code == 200 and looked_up == ["chan-1"]
    response = await client.post("/webhooks/google", headers=_headers())
    assert response.status_code == 200 and looked_up == ["chan-1"]
    assert await _queued(gateway) == 1


@pytest.mark.anyio
@pytest.mark.parametrize(("overrides", "status"), [
    ({"X-Goog-Channel-ID": "unknown"}, 404),
    ({"X-Goog-Channel-ID": "c" * 65}, 404),
    ({"X-Goog-Channel-ID": ""}, 400),
    ({"X-Goog-Channel-Token": "wrong"}, 403),
    ({"X-Goog-Channel-Token": ""}, 403),
    ({"X-Goog-Channel-Token": TOKEN[:-1]}, 403),
    ({"X-Goog-Resource-ID": "RES-other"}, 403),
    ({"X-Goog-Resource-ID": ""}, 403),
])
async def test_bad_notifications_are_rejected_before_any_work(
        receiver: Any, overrides: dict[str, str], status: int) -> None:
    gateway, client = receiver
    response = await client.post("/webhooks/google", headers=_headers(**overrides))
    assert response.status_code == status
    assert await _queued(gateway) == 0


@pytest.mark.anyio
async def test_only_post_is_served(receiver: Any) -> None:
    _, client = receiver
    assert (await client.get("/webhooks/google", headers=_headers())).status_code == 405


def _count_sync_requests(gateway: Any) -> list[str]:
    """Record the engine's sync requests (the engine still queues them)."""
    requested: list[str] = []
    original = gateway.engine.request_sync

    async def request_sync(user_id: str, reason: str) -> None:
        requested.append(user_id)
        await original(user_id, reason)
    gateway.engine.request_sync = request_sync
    return requested


@pytest.mark.anyio
async def test_replayed_message_numbers_are_ignored(receiver: Any) -> None:
    """Issue 15 item 8: a captured notification sent again asks for nothing."""
    gateway, client = receiver
    requested = _count_sync_requests(gateway)
    for number, expected in (("10", 1), ("10", 1), ("9", 1), ("11", 2), ("11", 2)):
        response = await client.post("/webhooks/google",
                                     headers=_headers(**{"X-Goog-Message-Number": number}))
        assert response.status_code == 200
        await inbox(gateway).drain()
        assert len(requested) == expected, number


@pytest.mark.anyio
async def test_each_channel_is_rate_limited(receiver: Any) -> None:
    gateway, client = receiver
    gateway.clock = ManualClock(datetime(2026, 11, 30, 9, tzinfo=UTC))
    requested = _count_sync_requests(gateway)
    answers = [(await client.post("/webhooks/google", headers=_headers(
        **{"X-Goog-Message-Number": str(100 + n)}))) for n in range(30)]
    await inbox(gateway).drain()  # one user: accepted hints coalesce in the inbox
    assert [a.status_code for a in answers].count(200) == BURST
    assert 1 <= len(requested) <= BURST
    before = len(requested)
    limited = [a for a in answers if a.status_code == 503]
    assert len(limited) == 20 and int(limited[0].headers["Retry-After"]) >= 1
    gateway.clock.advance(timedelta(minutes=1))  # Google retries later: accepted again
    retried = await client.post("/webhooks/google",
                                headers=_headers(**{"X-Goog-Message-Number": "500"}))
    await inbox(gateway).drain()
    assert retried.status_code == 200 and len(requested) == before + 1


@pytest.mark.anyio
async def test_notifications_are_acknowledged_before_and_coalesced_into_one_job(
        receiver: Any) -> None:
    """Issue 14: the answer waits on no store write; a burst of one user's notifications
    becomes one sync request when the inbox hands its batch over."""
    gateway, client = receiver
    held = inbox(gateway)
    held.window = 3600.0  # the batch is handed over only when drained here
    requested = _count_sync_requests(gateway)
    for number in range(20, 25):
        response = await client.post("/webhooks/google",
                                     headers=_headers(**{"X-Goog-Message-Number": str(number)}))
        assert response.status_code == 200
    assert requested == [] and sum((await gateway.store.job_counts()).values()) == 0
    assert len(held) == 1
    await held.drain()
    assert requested == ["u1"] and await _queued(gateway) == 1
