"""Join cards and out-of-office presence through the gateway's outbox and both emulators."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from hybrid_calendar.engine import notify, presence

from ..engine.conftest import Stack
from .conftest import ALICE, BOB, WebexWorld, at

pytestmark = pytest.mark.anyio


def cards(world: WebexWorld, email: str) -> list[dict[str, Any]]:
    return [m for m in world.webex.state.received_messages(email)
            if m.get("attachments")]


async def test_a_join_card_reaches_each_webex_invitee_once(world: WebexWorld, stack: Stack
                                                           ) -> None:
    world.google.state.insert_event(ALICE, at(1, summary="Standup", location=(
        "@webex:onetime"), attendees=[{"email": BOB}]))
    await stack.activate(ALICE)
    await stack.activate(BOB)
    [meeting] = world.meetings(ALICE)
    assert cards(world, ALICE) == []  # not due yet
    await stack.advance(timedelta(minutes=56))  # start minus the 5-minute lead
    await notify.deliver_due(stack.gateway)
    for email in (ALICE, BOB):
        [card] = cards(world, email)
        content = card["attachments"][0]["content"]
        assert content["actions"] == [{"type": "Action.OpenUrl", "title": "Join",
                                       "url": meeting["webLink"]}]
    await notify.deliver_due(stack.gateway)
    assert len(cards(world, ALICE)) == 1  # exactly once
    listed = (await stack.admin.get(
        f"/api/v1/users/{stack.user_ids[ALICE]}/notifications")).json()
    joins = [n for n in listed["notifications"] if n["kind"] == "join_button"]
    assert joins and joins[0]["state"] == "delivered"


async def test_a_detected_sip_link_gets_a_card_too(world: WebexWorld, stack: Stack) -> None:
    world.google.state.insert_event(ALICE, at(0.05, summary="Video call",
                                              location="sip:board@video.example.com"))
    await stack.activate(ALICE)
    await notify.deliver_due(stack.gateway)
    [card] = cards(world, ALICE)
    action = card["attachments"][0]["content"]["actions"][0]
    assert action["url"] == "sip:board@video.example.com"


async def test_vacation_sets_the_personal_assistant_until_its_end(world: WebexWorld,
                                                                  stack: Stack) -> None:
    now = datetime.now(UTC)
    end = (now + timedelta(days=2)).replace(microsecond=0)
    world.google.state.set_vacation(BOB, {
        "enableAutoReply": True, "startTime": str(int((now - timedelta(hours=1)).timestamp()
                                                      * 1000)),
        "endTime": str(int(end.timestamp() * 1000))})
    await stack.activate(BOB)
    person = world.webex.state.person_by_email(BOB)
    assert person is not None
    assistant = world.webex.state.personal_assistant[person["id"]]
    assert assistant["enabled"] is True and assistant["presence"] == "OUT_OF_OFFICE"
    assert str(assistant["untilDateTime"]).startswith(end.strftime("%Y-%m-%dT%H:%M"))

    world.google.state.set_vacation(BOB, {"enableAutoReply": False})
    stack.gateway.memory.presence_polled.clear()
    await presence.poll_presence(stack.gateway)
    assistant = world.webex.state.personal_assistant[person["id"]]
    assert assistant["enabled"] is False and assistant["presence"] == "NONE"


async def test_a_sent_card_is_withdrawn_when_the_meeting_is_cancelled(
        world: WebexWorld, stack: Stack) -> None:
    event = world.google.state.insert_event(ALICE, at(0.05, summary="Soon",
                                                      location="@webex:onetime"))
    await stack.activate(ALICE)
    await notify.deliver_due(stack.gateway)
    assert len(cards(world, ALICE)) == 1
    world.google.state.delete_event(ALICE, event["id"])
    await stack.idle()
    assert cards(world, ALICE) == [] and world.meetings(ALICE) == []


async def test_a_declined_or_cancelled_zoom_meetings_card_is_withdrawn(
        world: WebexWorld, stack: Stack) -> None:
    """Any meeting's card, not only one the gateway made in Webex: Bob declines and his
    card goes (Alice's stays); Alice cancels and hers goes too."""
    event = world.google.state.insert_event(ALICE, at(
        0.05, summary="Vendor call", location="https://acme.zoom.us/j/12345678",
        attendees=[{"email": BOB}]))
    await stack.activate(ALICE)
    await stack.activate(BOB)
    await notify.deliver_due(stack.gateway)
    assert len(cards(world, ALICE)) == 1 and len(cards(world, BOB)) == 1
    world.google.state.patch_event(BOB, event["id"], {"attendeesOmitted": True, "attendees": [
        {"email": BOB, "responseStatus": "declined"}]})
    await stack.idle()
    assert cards(world, BOB) == [] and len(cards(world, ALICE)) == 1
    world.google.state.delete_event(ALICE, event["id"])
    await stack.idle()
    assert cards(world, ALICE) == []


async def test_an_attendees_new_card_outlives_the_organisers_late_sync_of_a_move(
        world: WebexWorld, stack: Stack) -> None:
    """A Webex meeting about to start moves a few minutes on. Bob's sync sees it first:
    his old card goes and the new one arrives. Alice's sync, delayed by a failing list,
    then follows the meeting in Webex; it must not take Bob's new card with the old."""
    event = world.google.state.insert_event(ALICE, at(0.05, summary="Soon", location=(
        "@webex:onetime"), attendees=[{"email": BOB}]))
    await stack.activate(ALICE)
    await stack.activate(BOB)
    await notify.deliver_due(stack.gateway)
    assert len(cards(world, ALICE)) == 1 and len(cards(world, BOB)) == 1
    world.google.state.control({"errors": [{"status": 503, "user": ALICE, "method": "GET",
                                            "path": "/events$", "count": 1}]})
    start = datetime.fromisoformat(event["start"]["dateTime"]) + timedelta(minutes=1)
    world.google.state.patch_event(ALICE, event["id"], {
        "start": {"dateTime": start.isoformat()},
        "end": {"dateTime": (start + timedelta(minutes=30)).isoformat()}})
    await stack.idle()  # Bob's sync; Alice's list failed, her sync waits for its retry
    await notify.deliver_due(stack.gateway)
    [new] = cards(world, BOB)
    await stack.run_retries()
    await stack.idle()
    await notify.deliver_due(stack.gateway)
    assert cards(world, BOB) == [new]
    assert len(cards(world, ALICE)) == 1
