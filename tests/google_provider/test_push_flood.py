"""Refused push notifications cannot flood the log: counted in a metric, logged at most
once per channel per minute with a count (issue 14)."""

from __future__ import annotations

import logging
import secrets
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from prometheus_client import generate_latest
from starlette.applications import Starlette
from starlette.routing import BaseRoute

from hybrid_calendar.admin.metrics import metrics
from hybrid_calendar.clock import ManualClock
from hybrid_calendar.engine.engine import Engine
from hybrid_calendar.models import Channel, User, UserState

from .conftest import google_settings

ALICE = User(id="u1", org_id="org1", email="alice@example.com", state=UserState.ACTIVE)
TOKEN = "Zt6QYpA0m2kq6hS1cC3m4eFVb9x8wQn1t0aLr5sUu2Y"
LOGGER = "hybrid_calendar_google.push_refusals"


@pytest.fixture
async def app(make_gateway: Any, sa_info: dict[str, str]) -> AsyncIterator[Any]:
    gateway = await make_gateway(google_settings(sa_info))
    gateway.clock = ManualClock(datetime(2026, 11, 30, 9, tzinfo=UTC))
    gateway.engine = Engine(gateway)  # not started: queued jobs stay visible
    await gateway.store.put_user(ALICE)
    await gateway.store.put_channel(Channel("chan-1", "u1", "RES-1", TOKEN,
                                            datetime(2030, 1, 1, tzinfo=UTC)))
    routes: list[BaseRoute] = []
    gateway.hooks.register_routes(gateway, routes.append)
    transport = httpx.ASGITransport(app=Starlette(routes=routes))
    async with httpx.AsyncClient(transport=transport, base_url="http://gw.test") as client:
        yield gateway, client


def _sample(gateway: Any, outcome: str) -> float:
    text = generate_latest(metrics(gateway).registry).decode()
    line = f'hybrid_calendar_google_push_total{{outcome="{outcome}"}} '
    found = [row for row in text.splitlines() if row.startswith(line)]
    return float(found[0].split()[-1]) if found else 0.0


@pytest.mark.anyio
async def test_ten_thousand_refused_notifications_make_two_log_lines(
        app: Any, caplog: pytest.LogCaptureFixture) -> None:
    gateway, client = app
    caplog.set_level(logging.INFO, logger=LOGGER)
    statuses: dict[int, int] = {}
    for n in range(10_000):
        if n % 2:  # a stranger invents channel ids
            headers = {"X-Goog-Channel-ID": secrets.token_hex(8)}
        else:  # someone who knows the channel id guesses its token
            headers = {"X-Goog-Channel-ID": "chan-1", "X-Goog-Channel-Token": f"guess{n}",
                       "X-Goog-Resource-ID": "RES-1", "X-Goog-Resource-State": "exists"}
        response = await client.post("/webhooks/google", headers=headers)
        statuses[response.status_code] = statuses.get(response.status_code, 0) + 1
    assert statuses == {404: 5_000, 403: 5_000}
    lines = [r.getMessage() for r in caplog.records if r.name == LOGGER]
    assert len(lines) == 2, lines
    assert _sample(gateway, "unknown_channel") == 5_000
    assert _sample(gateway, "wrong_token") == 5_000
    assert sum((await gateway.store.job_counts()).values()) == 0

    gateway.clock.advance(timedelta(minutes=1))  # a minute later: one line with the count
    response = await client.post("/webhooks/google", headers={
        "X-Goog-Channel-ID": "chan-1", "X-Goog-Channel-Token": "again",
        "X-Goog-Resource-ID": "RES-1"})
    assert response.status_code == 403
    lines = [r.getMessage() for r in caplog.records if r.name == LOGGER]
    assert len(lines) == 3 and "4999 more" in lines[-1]
    assert "alice" not in " ".join(lines)


@pytest.mark.anyio
async def test_replays_are_counted_and_logged_once_a_minute(
        app: Any, caplog: pytest.LogCaptureFixture) -> None:
    gateway, client = app
    caplog.set_level(logging.INFO, logger=LOGGER)
    headers = {"X-Goog-Channel-ID": "chan-1", "X-Goog-Channel-Token": TOKEN,
               "X-Goog-Resource-ID": "RES-1", "X-Goog-Resource-State": "exists",
               "X-Goog-Message-Number": "7"}
    answers = [(await client.post("/webhooks/google", headers=headers)).status_code
               for _ in range(1_000)]
    assert answers == [200] * 1_000
    assert _sample(gateway, "accepted") == 1 and _sample(gateway, "replayed") == 999
    assert len([r for r in caplog.records if r.name == LOGGER]) == 1
