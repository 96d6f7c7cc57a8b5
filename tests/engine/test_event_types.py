"""Entries Google Calendar lists among events that are not meetings (working location,
focus time, out of office, birthdays) stay out of the meetings list and get no Join
button, even with a link in them (real engine and store, the Google emulator)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from hybrid_calendar.engine import notify

from .conftest import ALICE, Stack

pytestmark = pytest.mark.anyio

LINK = "https://acme.zoom.us/j/12345678"


def at(stack: Stack, minutes: int, **extra: Any) -> dict[str, Any]:
    start = (stack.clock.now() + timedelta(minutes=minutes)).replace(microsecond=0)
    return {"start": {"dateTime": start.isoformat()},
            "end": {"dateTime": (start + timedelta(minutes=30)).isoformat()}, **extra}


async def test_only_meetings_are_listed_and_get_join_buttons(stack: Stack) -> None:
    for event_type in ("workingLocation", "focusTime", "outOfOffice", "birthday"):
        stack.emu.state.insert_event(ALICE, at(stack, 3, summary=f"A {event_type}",
                                               eventType=event_type,
                                               description=LINK))
    stack.emu.state.insert_event(ALICE, at(stack, 3, summary="Call", description=LINK))
    stack.emu.state.insert_event(ALICE, at(stack, 120, summary="Flight", eventType="fromGmail"))
    await stack.activate(ALICE)
    assert sorted(m["title"] for m in await stack.meetings(ALICE)) == ["Call", "Flight"]
    await stack.advance(timedelta(minutes=1))
    await notify.deliver_due(stack.gateway)
    assert [n.payload["title"] for n in stack.sink.of_kind("join_button")] == ["Call"]

    focus = stack.emu.state.insert_event(ALICE, at(stack, 300, summary="Deep work",
                                                   eventType="focusTime"))
    stack.emu.state.patch_event(ALICE, focus["id"], {"summary": "Deep work (moved)"})
    await stack.idle()  # incremental syncs: still not a meeting
    assert sorted(m["title"] for m in await stack.meetings(ALICE)) == ["Call", "Flight"]


async def test_a_malformed_event_type_neither_fails_the_sync_nor_hides_the_meeting(
        stack: Stack) -> None:
    """Google answering an ``eventType`` that is not a string (a list cannot even be
    looked up in a set: the whole page failed to convert and the sync with it)."""
    odd_types: tuple[object, ...] = ([], {"a": 1}, 7, None)
    for n, odd in enumerate(odd_types):
        stack.emu.state.insert_event(ALICE, at(stack, 60 + n, summary=f"Odd {n}",
                                               eventType=odd))
    await stack.activate(ALICE)
    assert (await stack.user(ALICE))["state"] == "active"
    assert sorted(m["title"] for m in await stack.meetings(ALICE)) == [
        "Odd 0", "Odd 1", "Odd 2", "Odd 3"]
