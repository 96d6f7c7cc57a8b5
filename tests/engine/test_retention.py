"""Retention: only meetings from 7 days back to 31 days ahead are kept, as time moves."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from hybrid_calendar.builder import build_gateway, close_gateway
from hybrid_calendar.clock import ManualClock
from hybrid_calendar.engine import sweeps
from hybrid_calendar.gateway import Gateway
from hybrid_calendar.loading import load_config
from hybrid_calendar.models import Meeting, Organisation, User, UserState

pytestmark = pytest.mark.anyio
START = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)
USER = User(id="u1", org_id="o1", email="alice@example.com", state=UserState.ACTIVE)


@pytest.fixture
async def gateway(tmp_path: Path) -> AsyncIterator[Gateway]:
    config, pm = load_config(None, overrides={
        "plugins": {"enabled": ["kms_local"], "load_entrypoints": False},
        "gateway": {"data_dir": str(tmp_path)}}, environ={})
    gw = build_gateway(config, pm, clock=ManualClock(START))
    await gw.store.open()
    await gw.store.put_organisation(Organisation(id="o1", name="Org", domain="example.com"))
    await gw.store.put_user(USER)
    try:
        yield gw
    finally:
        await close_gateway(gw)


def meeting(event_id: str, days: float) -> Meeting:
    start = START + timedelta(days=days)
    return Meeting(user_id="u1", event_id=event_id, calendar_id="primary", status="confirmed",
                   start=start, end=start + timedelta(hours=1), title=event_id)


async def test_purge_follows_the_clock(gateway: Gateway) -> None:
    clock = gateway.clock
    assert isinstance(clock, ManualClock)
    await gateway.store.apply_changes(USER, [meeting("past-6", -6), meeting("today", 0),
                                             meeting("ahead-30", 30), meeting("ahead-40", 40)],
                                      [], "c", full_sync=True, synced_at=START)
    await sweeps.purge_expired(gateway)
    everything = (START - timedelta(days=90), START + timedelta(days=90))
    ids = [m.event_id for m in await gateway.store.list_meetings(USER, *everything)]
    assert ids == ["past-6", "today", "ahead-30"]

    clock.advance(timedelta(days=2))  # past-6 is now 8 days old
    await sweeps.purge_expired(gateway)
    ids = [m.event_id for m in await gateway.store.list_meetings(USER, *everything)]
    assert ids == ["today", "ahead-30"]

    clock.advance(timedelta(days=40))
    await sweeps.purge_expired(gateway)
    assert await gateway.store.list_meetings(USER, *everything) == []
