"""The push receiver on ``serve``'s HTTP front (:mod:`hybrid_calendar.front`): answered
while the gateway's loop is held, its hints reach the engine once the loop is free, and
hints added from other threads are never lost.

The test's event loop is the gateway's loop (store and engine live there); the webhook
route runs in a :class:`ThreadedServer` of its own, like ``serve``'s front thread, and
every other route is bridged back to the test's loop.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
import uvicorn

from hybrid_calendar.app import create_app
from hybrid_calendar.engine.engine import Engine
from hybrid_calendar.front import FrontDispatch
from hybrid_calendar.models import Channel, User, UserState
from hybrid_calendar.threaded_server import ThreadedServer, bind
from hybrid_calendar_google.push_inbox import inbox
from hybrid_calendar_google.push_refusals import outcomes

from .conftest import google_settings
from .test_webhook import ALICE, TOKEN, _count_sync_requests, _headers

pytestmark = pytest.mark.anyio


@pytest.fixture
async def fronted(make_gateway: Any, sa_info: dict[str, str]) -> AsyncIterator[Any]:
    gateway = await make_gateway(google_settings(sa_info))
    gateway.engine = Engine(gateway)  # not started: queued jobs stay visible
    gateway.loop = asyncio.get_running_loop()
    await gateway.store.put_user(ALICE)
    await gateway.store.put_channel(Channel("chan-1", "u1", "RES-1", TOKEN,
                                            datetime(2030, 1, 1, tzinfo=UTC)))
    app = create_app(gateway, start_engine=False)
    dispatch = FrontDispatch(app, app.state.front_app, app.state.front_routes)
    dispatch.home = gateway.loop  # as the lifespan records it under serve
    server = ThreadedServer(bind(), uvicorn.Server(uvicorn.Config(
        dispatch, lifespan="off", log_config=None)), name="http-front")
    await asyncio.to_thread(server.start, 30)
    try:
        yield gateway, server.base_url
    finally:
        await asyncio.to_thread(server.stop)


async def test_answered_while_the_gateway_loop_is_held(fronted: Any) -> None:
    gateway, base = fronted
    requested = _count_sync_requests(gateway)
    async with httpx.AsyncClient(base_url=base, timeout=30) as client:
        first = await client.post("/webhooks/google", headers=_headers())  # reads the store
        assert first.status_code == 200
    # A synchronous client on the gateway's own loop holds that loop until answered:
    # the front must answer on its own (a route needing the loop would never return).
    url = base + "/webhooks/google"
    held = httpx.post(url, timeout=30, headers=_headers(  # noqa: ASYNC210 (on purpose)
        **{"X-Goog-Message-Number": "11"}))
    assert held.status_code == 200
    refused = httpx.post(url, timeout=30, headers=_headers(  # noqa: ASYNC210
        **{"X-Goog-Channel-Token": "wrong"}))
    assert refused.status_code == 403
    counter = outcomes(gateway).counter
    assert counter.labels("accepted")._value.get() == 2
    assert counter.labels("wrong_token")._value.get() == 1
    await inbox(gateway).drain()
    assert requested == ["u1"]  # both hints, one user, one batch
    async with httpx.AsyncClient(base_url=base, timeout=30) as client:
        health = await client.get("/healthz")  # bridged to this loop
    assert health.json() == {"status": "ok"} and health.headers["x-request-id"]


async def test_hints_from_many_threads_are_never_lost(fronted: Any) -> None:
    gateway, _base = fronted
    users = [f"user-{i}" for i in range(400)]
    for user_id in users:
        await gateway.store.put_user(User(id=user_id, org_id="org1",
                                          email=f"{user_id}@example.com",
                                          state=UserState.ACTIVE))
    requested = _count_sync_requests(gateway)
    held = inbox(gateway)
    held.window = 0.0  # batches are taken as fast as they come

    def add(part: list[str]) -> None:
        for user_id in part:
            held.add(user_id)

    threads = [threading.Thread(target=add, args=(users[i::4],)) for i in range(4)]
    for thread in threads:
        thread.start()
    while any(t.is_alive() for t in threads):  # noqa: ASYNC110 (the loop drains meanwhile)
        await asyncio.sleep(0)
    for thread in threads:
        thread.join()
    await held.drain()
    assert sorted(requested) == sorted(users)
