"""Push channels end to end: emulator → uvicorn-served webhook → engine queue."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import anyio
import httpx
import pytest
from starlette.applications import Starlette
from starlette.routing import BaseRoute

from hybrid_calendar.engine.engine import Engine
from hybrid_calendar.models import User, UserState
from hybrid_calendar_google.push_inbox import inbox

from .test_webhook import _serve, channel_lookups

ALICE = User(id="u1", org_id="org1", email="alice@example.com", state=UserState.ACTIVE)


@pytest.fixture
async def webhook(emu_gateway: Any) -> AsyncIterator[str]:
    """The gateway's routes served on loopback (its public URL); yields the webhook address."""
    emu_gateway.engine = Engine(emu_gateway)  # not started: queued jobs stay visible
    await emu_gateway.store.put_user(ALICE)
    routes: list[BaseRoute] = []
    emu_gateway.hooks.register_routes(emu_gateway, routes.append)
    async for url in _serve(Starlette(routes=routes)):
        emu_gateway.config = emu_gateway.config.replace("gateway", public_url=url)
        yield url + "/webhooks/google"


def _event() -> dict[str, Any]:
    start = datetime.now(UTC) + timedelta(days=1)
    return {"summary": "sync me", "start": {"dateTime": start.isoformat()},
            "end": {"dateTime": (start + timedelta(hours=1)).isoformat()}}


async def _deliveries(emulator: Any, count: int) -> list[Any]:
    """Every push message delivered so far, once all queued ones were handled."""
    assert await _push_idle(emulator)
    delivered = list(emulator.state.push.deliveries)
    assert len(delivered) >= count
    return delivered


async def _push_idle(emulator: Any) -> bool:
    """Wait (off the event loop, which serves the webhook) until every push was handled."""
    return bool(await anyio.to_thread.run_sync(emulator.state.push.wait_idle, 5.0))


async def _watch(gateway: Any) -> Any:
    """Open a channel (the provider points it at the gateway's public URL)."""
    from dataclasses import replace

    token = "k" * 43
    channel = await gateway.hooks.watch_calendar(gateway, ALICE, token)
    await gateway.store.put_channel(replace(channel, token=token))
    return channel


async def _jobs(gateway: Any) -> int:
    """Jobs in the store, once the push inbox handed over what it holds."""
    await inbox(gateway).drain()
    return sum((await gateway.store.job_counts()).values())


@pytest.mark.anyio
async def test_notifications_reach_the_webhook_and_enqueue(emu_gateway: Any, emulator: Any,
                                                           webhook: str) -> None:
    channel = await _watch(emu_gateway)
    assert channel.expires_at > datetime.now(UTC) + timedelta(days=6)
    first = await _deliveries(emulator, 1)
    assert await _jobs(emu_gateway) == 0  # the "sync" message needs no sync
    emulator.state.insert_event("alice@example.com", _event())
    delivered = await _deliveries(emulator, len(first) + 1)
    assert len(delivered) == len(first) + 1
    assert await _jobs(emu_gateway) == 1


@pytest.mark.anyio
async def test_stopped_channel_gets_no_more_messages(emu_gateway: Any, emulator: Any,
                                                     webhook: str) -> None:
    channel = await _watch(emu_gateway)
    before = len(await _deliveries(emulator, 1))
    assert await emu_gateway.hooks.stop_watch(emu_gateway, ALICE, channel) is True
    emulator.state.insert_event("alice@example.com", _event())
    assert await _push_idle(emulator)  # every message the change caused was handled
    assert len(emulator.state.push.deliveries) == before
    assert await _jobs(emu_gateway) == 0
    assert await emu_gateway.hooks.stop_watch(emu_gateway, ALICE, channel) is True


@pytest.mark.anyio
async def test_dropped_notifications_are_caught_by_polling(emu_gateway: Any, emulator: Any,
                                                           webhook: str) -> None:
    first = await emu_gateway.hooks.fetch_changes(emu_gateway, ALICE, None)
    await _watch(emu_gateway)
    await _deliveries(emulator, 1)
    emulator.control({"drop_notifications": 1.0})
    created = emulator.state.insert_event("alice@example.com", _event())
    assert await _push_idle(emulator)
    assert emulator.state.push.deliveries[-1].dropped
    assert await _jobs(emu_gateway) == 0  # the hint was lost...
    changes = await emu_gateway.hooks.fetch_changes(emu_gateway, ALICE, first.next_cursor)
    assert [e.id for e in changes.events] == [created["id"]]  # ...the safety sync is not


@pytest.mark.anyio
async def test_forged_notification_is_rejected(emu_gateway: Any, emulator: Any,
                                               webhook: str) -> None:
    channel = await _watch(emu_gateway)
    async with httpx.AsyncClient() as client:
        response = await client.post(webhook, headers={
            "X-Goog-Channel-ID": channel.id, "X-Goog-Channel-Token": "guess",
            "X-Goog-Resource-ID": channel.resource_id, "X-Goog-Resource-State": "exists"})
    assert response.status_code == 403
    assert await _jobs(emu_gateway) == 0


@pytest.mark.anyio
async def test_a_channel_being_opened_is_known_before_the_store_has_it(
        emu_gateway: Any, emulator: Any, webhook: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Google sends a channel's ``sync`` message as it creates the channel, before the
    activation stores it: the webhook knows the channel from the watch (no 404, no
    refusal logged) and reads nothing from the store for it or for its first change."""
    looked_up = channel_lookups(emu_gateway, monkeypatch)
    channel = await emu_gateway.hooks.watch_calendar(emu_gateway, ALICE, "k" * 43)  # not stored
    [first] = await _deliveries(emulator, 1)
    assert (first.channel_id, first.state, first.status) == (channel.id, "sync", 200)
    emulator.state.insert_event("alice@example.com", _event())
    delivered = await _deliveries(emulator, 2)
    assert (delivered[-1].state, delivered[-1].status) == ("exists", 200)
    assert looked_up == []
    assert await _jobs(emu_gateway) == 1
