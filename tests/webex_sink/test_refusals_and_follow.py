"""Refusals become a localized note and a health reason; an edit retries. The Webex
meeting follows its calendar event (PUT on change, DELETE on cancel)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from ..engine.conftest import Stack
from .conftest import ALICE, BOB, DAVE, WebexWorld, at

pytestmark = pytest.mark.anyio


async def test_no_webex_account_gives_a_note_and_a_health_reason(world: WebexWorld,
                                                                 stack: Stack) -> None:
    world.google.state.set_setting(DAVE, "locale", "fr")
    event = world.google.state.insert_event(DAVE, at(3, summary="Point",
                                                     location="@webex:onetime"))
    await stack.activate(DAVE)
    stored = world.google.state.get_event(DAVE, event["id"])
    assert stored["location"] == "@webex:onetime"  # the keyword stays
    assert "vous n'avez pas de compte Webex" in stored["description"]
    user = await stack.user(DAVE)
    assert user["state"] == "active" and "no Webex account" in user["reason"]
    assert world.meetings() == []


async def test_a_start_in_the_past_is_refused_and_an_edit_retries(world: WebexWorld,
                                                                  stack: Stack) -> None:
    event = world.google.state.insert_event(ALICE, at(-2, summary="Late",
                                                      location="@webex:onetime"))
    await stack.activate(ALICE)
    stored = world.google.state.get_event(ALICE, event["id"])
    assert "the meeting starts in the past" in stored["description"]
    assert world.meetings() == [] and world.webex_calls("POST", "/meetings") == 0
    patches = len(stack.calls(ALICE, "PUT"))

    await stack.idle()  # our own write comes back: nothing is retried
    assert len(stack.calls(ALICE, "PUT")) == patches

    world.google.state.patch_event(ALICE, event["id"], {**at(3)})  # the organiser moves it
    await stack.idle()
    [meeting] = world.meetings(ALICE)
    stored = world.google.state.get_event(ALICE, event["id"])
    assert stored["location"] == meeting["webLink"]
    assert "starts in the past" not in stored["description"]
    assert (await stack.user(ALICE))["reason"] is None


async def test_a_bad_duration_is_refused(world: WebexWorld, stack: Stack) -> None:
    event = world.google.state.insert_event(ALICE, at(3, 5, summary="Blink",
                                                      location="@webex:onetime"))
    await stack.activate(ALICE)
    assert "10 minutes to 24 hours" in world.google.state.get_event(
        ALICE, event["id"])["description"]
    assert world.meetings() == []


async def test_hook_follow_meeting_updates_a_move_and_attendees_deletes_a_cancel(
        world: WebexWorld, stack: Stack) -> None:
    event = world.google.state.insert_event(ALICE, at(5, summary="Review",
                                                      location="@webex:onetime"))
    await stack.activate(ALICE)
    [meeting] = world.meetings(ALICE)
    later = datetime.now(UTC).replace(second=0, microsecond=0) + timedelta(days=2)
    world.google.state.patch_event(ALICE, event["id"], {
        "summary": "Review (moved)", "attendees": [{"email": BOB}],
        "start": {"dateTime": later.isoformat()},
        "end": {"dateTime": (later + timedelta(hours=1)).isoformat()}})
    await stack.idle()
    [moved] = world.meetings(ALICE)
    assert moved["id"] == meeting["id"] and moved["title"] == "Review (moved)"
    assert datetime.fromisoformat(moved["start"].replace("Z", "+00:00")) == later
    assert [i["email"] for i in moved["_invitees"]] == [BOB]
    assert world.webex_calls("PUT", "/meetings/") == 1

    world.google.state.delete_event(ALICE, event["id"])
    await stack.idle()
    assert world.meetings(ALICE) == []
    assert world.webex_calls("DELETE", "/meetings/") == 1
