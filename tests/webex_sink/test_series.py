"""A recurring series with a keyword maps to one Webex series; a cancelled instance
cancels that occurrence."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest

from ..engine.conftest import Stack
from .conftest import ALICE, WebexWorld

pytestmark = pytest.mark.anyio


def occurrences(world: WebexWorld, series_id: str) -> list[str]:
    with httpx.Client(base_url=world.webex.api_base, headers={
            "Authorization": f"Bearer {world.webex.admin_token}"}) as api:
        answer = api.get("/meetings", params={
            "meetingSeriesId": series_id, "meetingType": "scheduledMeeting",
            "hostEmail": ALICE, "from": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "to": (datetime.now(UTC) + timedelta(days=40)).strftime("%Y-%m-%dT%H:%M:%SZ")})
        answer.raise_for_status()
        return [m["start"] for m in answer.json()["items"]]


async def test_a_series_is_one_webex_series_and_a_cancelled_instance_one_occurrence(
        world: WebexWorld, stack: Stack) -> None:
    start = (datetime.now(UTC) + timedelta(days=1)).replace(hour=9, minute=0, second=0,
                                                            microsecond=0)
    master = world.google.state.insert_event(ALICE, {
        "summary": "Weekly", "location": "@webex:onetime",
        "recurrence": ["RRULE:FREQ=WEEKLY;COUNT=4"],
        "start": {"dateTime": start.isoformat(), "timeZone": "UTC"},
        "end": {"dateTime": (start + timedelta(minutes=30)).isoformat(), "timeZone": "UTC"}})
    await stack.activate(ALICE)
    await stack.idle()
    [series] = world.meetings(ALICE)
    assert series["recurrence"] == "FREQ=WEEKLY;COUNT=4"
    assert world.webex_calls("POST", "/meetings") == 1
    assert len(occurrences(world, series["id"])) == 4
    stored = world.google.state.get_event(ALICE, master["id"])
    assert stored["location"] == series["webLink"]

    second = start + timedelta(weeks=1)
    world.google.state.delete_event(ALICE, f"{master['id']}_{second:%Y%m%dT%H%M%SZ}")
    await stack.idle()
    remaining = [datetime.fromisoformat(s.replace("Z", "+00:00"))
                 for s in occurrences(world, series["id"])]
    assert second not in remaining and len(remaining) == 3
    assert world.webex_calls("POST", "/meetings") == 1


async def test_a_moved_instance_moves_that_occurrence(world: WebexWorld, stack: Stack
                                                      ) -> None:
    start = (datetime.now(UTC) + timedelta(days=1)).replace(hour=9, minute=0, second=0,
                                                            microsecond=0)
    master = world.google.state.insert_event(ALICE, {
        "summary": "Daily", "location": "@webex:onetime",
        "recurrence": ["RRULE:FREQ=DAILY;COUNT=3"],
        "start": {"dateTime": start.isoformat(), "timeZone": "UTC"},
        "end": {"dateTime": (start + timedelta(minutes=30)).isoformat(), "timeZone": "UTC"}})
    await stack.activate(ALICE)
    await stack.idle()
    [series] = world.meetings(ALICE)
    second = start + timedelta(days=1)
    moved = second + timedelta(hours=3)
    world.google.state.patch_event(ALICE, f"{master['id']}_{second:%Y%m%dT%H%M%SZ}", {
        "start": {"dateTime": moved.isoformat(), "timeZone": "UTC"},
        "end": {"dateTime": (moved + timedelta(minutes=30)).isoformat(), "timeZone": "UTC"}})
    await stack.idle()
    listed = sorted(datetime.fromisoformat(s.replace("Z", "+00:00"))
                    for s in occurrences(world, series["id"]))
    assert listed == [start, moved, start + timedelta(days=2)]
    assert world.webex_calls("POST", "/meetings") == 1
