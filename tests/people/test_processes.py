"""Two real gateway processes (``hybrid-calendar serve``) on one PostgreSQL database deliver
each Join button once: to the webhook receiver, to the stream outbox and to a recording
sink, whichever process claims it. Every user's stream is open at the second process, so
the buttons the first process delivers reach it through ``LISTEN``/``NOTIFY``."""

from __future__ import annotations

import asyncio
import contextlib
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import anyio.to_thread
import httpx
import pytest

from hybrid_calendar.builder import opened_gateway
from hybrid_calendar.engine import notify
from hybrid_calendar.loading import load_config
from hybrid_calendar.models import DeliveryState, Organisation, User, UserState
from hybrid_calendar.people import access, outbox, webhooks
from hybrid_calendar.store.postgres.local_server import free_port
from tests.scaling.processes import GatewayProcesses

from .conftest import meeting
from .receiver import running_receiver
from .sse import open_stream

pytestmark = [pytest.mark.anyio, pytest.mark.slow]
USERS = 30
LEAD = timedelta(minutes=5)


async def test_two_processes_deliver_each_join_button_once(tmp_path: Path,
                                                           postgres_url: str) -> None:
    gateways = GatewayProcesses(tmp_path, {
        "gateway": {"database": postgres_url, "data_dir": str(tmp_path / "data"),
                    "admin_token": "two-processes-admin-token-0123"},
        "plugins": {"enabled": ["join_info", "kms_local", "people"],
                    "load_entrypoints": True},  # and the recording sink
        "sync": {"sweep_seconds": 3600.0},
        "notifications": {"poll_seconds": 0.1,
                          "join_button_lead_minutes": LEAD.total_seconds() / 60},
        "people": {"webhook_allow_http": True, "stream_ping_seconds": 1.0}})
    async with running_receiver() as receiver, contextlib.AsyncExitStack() as stack:
        stack.callback(gateways.stop_all)
        await anyio.to_thread.run_sync(gateways.start, free_port())  # migrates, makes the key
        second = await anyio.to_thread.run_sync(gateways.start, free_port())
        config, pm = load_config(tmp_path / "gateway-0.toml", environ={}, overrides={
            "plugins": {"enabled": ["join_info", "kms_local", "people"],
                        "load_entrypoints": False}})
        gateway = await stack.enter_async_context(opened_gateway(config, pm))
        await gateway.store.put_organisation(Organisation("org1", "Example", "example.com"))
        users = [User(id=f"u{i:02d}", org_id="org1", email=f"p{i}@example.com",
                      state=UserState.ACTIVE) for i in range(USERS)]
        tokens = []
        for user in users:
            await gateway.store.put_user(user)
            tokens.append((await access.issue(gateway, user.id, kind="token",
                                              audience="person", ttl=timedelta(hours=1))).secret)
        await webhooks.add_endpoint(gateway, "org1", receiver.url, ("join_button",),
                                    "127.0.0.1")
        streams = []
        for token in tokens:
            client = await stack.enter_async_context(httpx.AsyncClient(
                base_url=second.base_url, timeout=30,
                headers={"Authorization": f"Bearer {token}"}))
            streams.append(await stack.enter_async_context(open_stream(client)))
        first_due = datetime.now(UTC) + timedelta(seconds=2)
        for i, user in enumerate(users):  # due over three seconds
            due = first_due + timedelta(seconds=3 * i / USERS)
            await notify.schedule_join_buttons(gateway, user, [
                meeting(user, f"e{i}", f"Meeting {i}", due + LEAD)])

        streamed = await asyncio.gather(*(s.next(limit=60) for s in streams))
        async with asyncio.timeout(60):
            while len(receiver.requests) < USERS:
                receiver.arrived.clear()
                await receiver.arrived.wait()
        assert [(e.event, e.data["event_id"]) for e in streamed] == [
            ("join_button", f"e{i}") for i in range(USERS)]
        await anyio.to_thread.run_sync(gateways.stop_all)  # nothing more can arrive

        titles = Counter(r.body.split(b'"title":"')[1].split(b'"')[0]
                         for r in receiver.requests)
        assert len(titles) == USERS and set(titles.values()) == {1}, titles
        lines = [line.split() for line in gateways.deliveries.read_text().splitlines()]
        keys = Counter(key for _kind, key, _pid in lines)
        assert len(keys) == USERS and set(keys.values()) == {1}, keys
        assert len({pid for _kind, _key, pid in lines}) == 2  # both processes took some
        recorded = [e for u in users for e in await outbox.since(gateway, u, 0)]
        assert sorted((e.user_id, e.data["event_id"]) for e in recorded) == [
            (user.id, f"e{i}") for i, user in enumerate(users)]
        for user in users:
            [button] = await gateway.store.list_notifications(user)
            assert button.state is DeliveryState.DELIVERED, button
