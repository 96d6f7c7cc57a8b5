"""A meeting its user declined gets no Join button (real engine, store and hooks, the
Google emulator carrying the attendee's answer to every copy of the event)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from hybrid_calendar.engine import notify
from hybrid_calendar_google_emulator.testing import RunningEmulator

from .conftest import ALICE, BOB, Stack, running_stack

pytestmark = pytest.mark.anyio


def answer(stack: Stack, event: dict[str, Any], response: str) -> None:
    """Bob answers the invitation on his own copy (as his calendar client does)."""
    stack.emu.state.patch_event(BOB, event["id"], {"attendees": [
        {"email": ALICE, "responseStatus": "accepted"},
        {"email": BOB, "responseStatus": response}]})


def budget_meeting(stack: Stack, invitee: str) -> dict[str, Any]:
    """Alice's "Budget", with a Zoom link, in half an hour; ``invitee`` invited."""
    start = (stack.clock.now() + timedelta(minutes=30)).replace(second=0, microsecond=0)
    return stack.emu.state.insert_event(ALICE, {
        "summary": "Budget", "location": "https://acme.zoom.us/j/12345678",
        "attendees": [{"email": invitee}],
        "start": {"dateTime": start.isoformat()},
        "end": {"dateTime": (start + timedelta(minutes=30)).isoformat()}})


def buttons_for(stack: Stack, email: str) -> list[str]:
    return [n.payload["title"] for n in stack.sink.of_kind("join_button")
            if n.user.email == email]


async def test_a_declined_meeting_pops_no_join_button_until_accepted_again(
        emulator: RunningEmulator, tmp_path: Path) -> None:
    async with running_stack(emulator, tmp_path) as stack:
        event = budget_meeting(stack, BOB)
        await stack.activate(ALICE)
        await stack.activate(BOB)
        answer(stack, event, "declined")
        await stack.idle()
        [bobs] = await stack.meetings(BOB)
        assert bobs["title"] == "Budget"  # still listed: declined, not deleted

        await stack.advance(timedelta(minutes=26))  # the buttons are due
        await notify.deliver_due(stack.gateway)
        assert buttons_for(stack, ALICE) == ["Budget"]
        assert buttons_for(stack, BOB) == []

        answer(stack, event, "accepted")  # he changes his mind before the start
        await stack.idle()
        await notify.deliver_due(stack.gateway)
        assert buttons_for(stack, BOB) == ["Budget"]


async def test_declining_a_series_takes_every_instances_join_button_away(
        emulator: RunningEmulator, tmp_path: Path) -> None:
    """Bob answers the series (his copy of its master): every instance carries his
    answer, so none pops a button for him; Alice's still do."""
    async with running_stack(emulator, tmp_path) as stack:
        start = (stack.clock.now() + timedelta(minutes=30)).replace(second=0, microsecond=0)
        series = emulator.state.insert_event(ALICE, {
            "summary": "Weekly", "location": "https://acme.zoom.us/j/12345678",
            "attendees": [{"email": BOB}], "recurrence": ["RRULE:FREQ=DAILY;COUNT=3"],
            "start": {"dateTime": start.isoformat(), "timeZone": "Europe/Berlin"},
            "end": {"dateTime": (start + timedelta(minutes=30)).isoformat(),
                    "timeZone": "Europe/Berlin"}})
        await stack.activate(ALICE)
        await stack.activate(BOB)
        answer(stack, series, "declined")
        await stack.idle()
        assert len(await stack.meetings(BOB)) == 3  # still listed
        await stack.advance(timedelta(minutes=26))  # each instance's button falls due
        for day in range(3):
            if day:
                await stack.advance(timedelta(days=1))
            await notify.deliver_due(stack.gateway)
        assert buttons_for(stack, BOB) == []
        assert buttons_for(stack, ALICE) == ["Weekly"] * 3


BOBBY = "bobby@example.com"
"""An alias of Bob's: the address Alice invites him by."""


async def test_a_meeting_declined_by_an_alias_of_the_user_pops_no_join_button(
        emulator: RunningEmulator, tmp_path: Path) -> None:
    """Google keeps the address an attendee was invited by and marks the calendar owner's
    own entry ``self``: Bob, invited as his alias, declines on his copy, and the decline
    is his, though no attendee carries his primary address."""
    emulator.control({"add_aliases": {BOBBY: BOB}})
    async with running_stack(emulator, tmp_path) as stack:
        event = budget_meeting(stack, BOBBY)
        await stack.activate(ALICE)
        await stack.activate(BOB)
        stack.emu.state.patch_event(BOB, event["id"], {"attendeesOmitted": True, "attendees": [
            {"email": BOBBY, "responseStatus": "declined"}]})
        await stack.idle()
        [bobs] = await stack.meetings(BOB)
        assert bobs["title"] == "Budget"

        await stack.advance(timedelta(minutes=26))
        await notify.deliver_due(stack.gateway)
        assert buttons_for(stack, ALICE) == ["Budget"]
        assert buttons_for(stack, BOB) == []
