"""A Join button is keyed and timed by its start's instant, not by how the calendar wrote
it (real store, engine and hooks, the Google emulator)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from hybrid_calendar.engine import notify
from hybrid_calendar.models import JoinInfo, Meeting, User, UserState
from hybrid_calendar_google_emulator.testing import RunningEmulator

from .conftest import ALICE, running_stack

pytestmark = pytest.mark.anyio


def _event(start: datetime) -> dict[str, object]:
    return {"summary": "Standup", "location": "https://acme.zoom.us/j/12345678",
            "start": {"dateTime": start.isoformat()},
            "end": {"dateTime": (start + timedelta(minutes=30)).isoformat()}}


async def test_a_join_button_is_not_pushed_again_when_its_start_is_written_in_another_zone(
        emulator: RunningEmulator, tmp_path: Path, store_url: str | None) -> None:
    """The same meeting at the same instant, its start rendered with another offset (the
    person changed their calendar's time zone; Google renders dateTime in it), must keep
    its one Join button: the key is (meeting, recipient, start), an instant."""
    async with running_stack(emulator, tmp_path, database=store_url) as stack:
        start = (stack.clock.now() + timedelta(minutes=3)).replace(second=0, microsecond=0)
        emulator.state.insert_event(ALICE, _event(start))
        await stack.activate(ALICE)
        await notify.deliver_due(stack.gateway)
        assert len(stack.sink.of_kind("join_button")) == 1  # due at start - 5 min: sent
        await stack.advance(timedelta(minutes=5))  # the meeting is under way
        emulator.state.set_setting(ALICE, "timezone", "Europe/Berlin")
        user_id = stack.user_ids[ALICE]
        await stack.gateway.store.reset_cursor(user_id)  # a full sync (410, safety net)
        await stack.engine.request_sync(user_id, "test")
        await stack.idle()
        await notify.deliver_due(stack.gateway)
        buttons = stack.sink.of_kind("join_button")
        assert len(buttons) == 1, [b.key for b in buttons]


async def test_a_join_button_is_due_lead_minutes_before_start_across_a_dst_change(
        emulator: RunningEmulator, tmp_path: Path) -> None:
    """A start with a zone (not a fixed offset): Python subtracts wall-clock time, so on
    the night the clocks change the lead time is off by an hour."""
    async with running_stack(emulator, tmp_path) as stack:
        berlin = ZoneInfo("Europe/Berlin")
        user = User(id="u1", org_id="org1", email=ALICE, state=UserState.ACTIVE)
        for start in (datetime(2026, 3, 29, 3, 2, tzinfo=berlin),  # clocks went forward
                      datetime(2026, 10, 25, 3, 2, tzinfo=berlin)):  # and back
            meeting = Meeting(user_id="u1", event_id="e1", calendar_id="primary",
                              status="confirmed", start=start,
                              end=start + timedelta(minutes=30), title="Standup",
                              join=JoinInfo(provider="zoom", url="https://acme.zoom.us/j/1",
                                            source="location"))
            [item] = notify.join_button_items(stack.gateway, user, [meeting])
            assert item.due_at.astimezone(UTC) == start.astimezone(UTC) - timedelta(
                minutes=5)
