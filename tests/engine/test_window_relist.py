"""An event that was beyond the retention window when the calendar was
last fully listed, and that nobody edits, must appear once time brings it into the window
(incremental sync only returns *changed* events, so the gateway has to re-list)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from hybrid_calendar.engine import sweeps

from .conftest import ALICE, Stack
from .test_gateway_with_emulator import at

pytestmark = pytest.mark.anyio


async def test_an_unchanged_event_entering_the_window_is_synced(stack: Stack) -> None:
    stack.emu.state.insert_event(ALICE, at(24 * 40, summary="Offsite"))
    stack.emu.state.insert_event(ALICE, at(24 * 30, summary="Weekly sync",
                                           recurrence=["RRULE:FREQ=WEEKLY;COUNT=8"]))
    await stack.activate(ALICE)
    titles = [m["title"] for m in await stack.meetings(ALICE)]
    assert "Offsite" not in titles and titles.count("Weekly sync") == 1

    stack.clock.advance(timedelta(days=20))  # the offsite is 20 days ahead now
    await sweeps.run_sweep(stack.gateway)     # renewals and the safety re-sync
    await stack.idle()
    titles = [m["title"] for m in await stack.meetings(ALICE)]
    assert "Offsite" in titles
    assert titles.count("Weekly sync") == 3  # 10, 17 and 24 days ahead
    health = (await stack.admin.get(f"/api/v1/users/{stack.user_ids[ALICE]}/health")).json()
    assert health["sync_token_resets"] == 0  # listing the moved window is no token reset
