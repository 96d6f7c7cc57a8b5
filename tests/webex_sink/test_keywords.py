"""@webex, @webex:onetime, @meet and :myroom through the gateway and both emulators."""

from __future__ import annotations

import pytest

from ..engine.conftest import Stack
from .conftest import ALICE, BOB, CAROL, DAVE, WebexWorld, at, webex_calls_of

pytestmark = pytest.mark.anyio


async def test_webex_keyword_writes_the_personal_room(world: WebexWorld, stack: Stack
                                                      ) -> None:
    event = world.google.state.insert_event(ALICE, at(3, summary="Sync", location="@webex"))
    await stack.activate(ALICE)
    stored = world.google.state.get_event(ALICE, event["id"])
    assert stored["location"] == "https://example.webex.com/meet/alice"
    assert "alice@example.webex.com" in stored["description"]  # SIP address for devices
    assert world.meetings() == []  # a Personal Room is not a scheduled meeting
    [meeting] = await stack.meetings(ALICE)
    assert meeting["join"]["provider"] == "webex"


async def test_onetime_creates_one_meeting_with_invitees_and_a_localized_block(
        world: WebexWorld, stack: Stack) -> None:
    world.google.state.set_setting(ALICE, "locale", "de")
    event = world.google.state.insert_event(ALICE, at(5, 60, summary="Angebot", location=(
        "Raum 4 @webex:onetime"), description="<b>Agenda</b>: Preise<br>Fragen",
        attendees=[{"email": ALICE, "organizer": True}, {"email": BOB},
                   {"email": DAVE, "displayName": "Dave"}]))
    await stack.activate(ALICE)
    [meeting] = world.meetings(ALICE)
    assert meeting["title"] == "Angebot"
    assert meeting["integrationTags"] == [f"gcal:{event['id']}"]
    assert meeting["agenda"] == "Agenda: Preise\nFragen"
    assert world.webex.state.sent_emails == []  # sendEmail: false, the invite is the invite
    assert {i["email"] for i in meeting["_invitees"]} == {BOB, DAVE}
    stored = world.google.state.get_event(ALICE, event["id"])
    assert stored["location"] == f"Raum 4 {meeting['webLink']}"
    description = stored["description"]
    assert description.startswith("<b>Agenda</b>: Preise<br>Fragen")
    assert "An der Besprechung teilnehmen" in description
    assert meeting["sipAddress"] in description and meeting["password"] in description
    number = meeting["meetingNumber"]
    assert f"{number[:4]} {number[4:7]} {number[7:]}" in description

    calls = webex_calls_of(stack)
    world.google.state.patch_event(ALICE, event["id"], {"description": stored["description"]
                                                        + " "})
    await stack.idle()  # a change the meeting does not keep: no Webex call
    assert webex_calls_of(stack) == calls and len(world.meetings(ALICE)) == 1


async def test_meet_keyword_makes_a_space_with_the_invitees(world: WebexWorld, stack: Stack
                                                            ) -> None:
    event = world.google.state.insert_event(ALICE, at(2, summary="Huddle", location="@meet",
                                                      attendees=[{"email": BOB},
                                                                 {"email": CAROL}]))
    await stack.activate(ALICE)
    with world.webex.state.lock:
        [room] = [r for r in world.webex.state.rooms.values() if r["title"] == "Huddle"]
        members = {world.webex.state.people[m["personId"]]["emails"][0]
                   for m in world.webex.state.memberships.values()
                   if m["roomId"] == room["id"]}
    assert {ALICE, BOB, CAROL} <= members
    stored = world.google.state.get_event(ALICE, event["id"])
    assert stored["location"].startswith("https://")
    assert world.meetings() == []


async def test_myroom_modifier_on_meet_gives_the_personal_room(world: WebexWorld,
                                                               stack: Stack) -> None:
    event = world.google.state.insert_event(BOB, at(2, summary="1:1",
                                                    location="@meet:myroom"))
    await stack.activate(BOB)
    assert world.google.state.get_event(BOB, event["id"])["location"] == \
        "https://example.webex.com/meet/bob"
