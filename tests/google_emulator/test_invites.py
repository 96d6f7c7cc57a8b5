"""Invitations: copies on attendees' calendars, responses back to the organizer."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from googleapiclient.errors import HttpError

from hybrid_calendar_google_emulator.testing import RunningEmulator
from tests.google_emulator.helpers import ALICE, BOB, CAROL, Receiver, timed

START, END = "2026-12-01T10:00:00Z", "2026-12-01T11:00:00Z"


def test_attendee_gets_copy_with_own_private_props(emu: RunningEmulator, cal: Any,
                                                   make_service: Callable[..., Any]) -> None:
    bob = make_service(BOB)
    event = cal.events().insert(calendarId="primary", body=timed(
        "Sync", START, END, attendees=[{"email": BOB}, {"email": "ext@partner.example"}],
        extendedProperties={"private": {"marker": "gw"}, "shared": {"join": "url"}},
    )).execute()
    copy = bob.events().get(calendarId="primary", eventId=event["id"]).execute()
    assert copy["iCalUID"] == event["iCalUID"] and copy["summary"] == "Sync"
    assert copy["organizer"] == {"email": ALICE}
    assert copy["extendedProperties"] == {"shared": {"join": "url"}}
    assert [a for a in copy["attendees"] if a.get("self")] == [
        {"email": BOB, "responseStatus": "needsAction", "self": True}]
    bob.events().patch(calendarId="primary", eventId=event["id"],
                       body={"extendedProperties": {"private": {"mine": "1"}}}).execute()
    cal.events().patch(calendarId="primary", eventId=event["id"],
                       body={"location": "@webex"}).execute()
    copy = bob.events().get(calendarId="primary", eventId=event["id"]).execute()
    assert copy["location"] == "@webex"
    assert copy["extendedProperties"]["private"] == {"mine": "1"}


def test_response_flows_back_and_delete_declines(emu: RunningEmulator, cal: Any,
                                                 make_service: Callable[..., Any]) -> None:
    bob, carol = make_service(BOB), make_service(CAROL)
    event = cal.events().insert(calendarId="primary", body=timed(
        "Sync", START, END, attendees=[{"email": BOB}, {"email": CAROL}])).execute()
    bob.events().patch(calendarId="primary", eventId=event["id"], body={
        "attendeesOmitted": True,
        "attendees": [{"email": BOB, "responseStatus": "accepted"}]}).execute()
    statuses = {a["email"]: a["responseStatus"] for a in cal.events().get(
        calendarId="primary", eventId=event["id"]).execute()["attendees"]}
    assert statuses == {BOB: "accepted", CAROL: "needsAction"}
    carol_view = carol.events().get(calendarId="primary", eventId=event["id"]).execute()
    assert {a["email"]: a["responseStatus"] for a in carol_view["attendees"]}[BOB] == "accepted"
    carol.events().delete(calendarId="primary", eventId=event["id"]).execute()
    statuses = {a["email"]: a["responseStatus"] for a in cal.events().get(
        calendarId="primary", eventId=event["id"]).execute()["attendees"]}
    assert statuses[CAROL] == "declined"


def test_removed_attendee_and_cancelled_event(emu: RunningEmulator, cal: Any,
                                              make_service: Callable[..., Any]) -> None:
    bob = make_service(BOB)
    event = cal.events().insert(calendarId="primary", body=timed(
        "Sync", START, END, attendees=[{"email": BOB}, {"email": CAROL}])).execute()
    cal.events().patch(calendarId="primary", eventId=event["id"],
                       body={"attendees": [{"email": CAROL}]}).execute()
    assert bob.events().get(calendarId="primary", eventId=event["id"]
                            ).execute()["status"] == "cancelled"
    cal.events().delete(calendarId="primary", eventId=event["id"]).execute()
    assert emu.state.get_event(CAROL, event["id"])["status"] == "cancelled"


def test_shared_properties_only_by_organizer(cal: Any,
                                             make_service: Callable[..., Any]) -> None:
    bob = make_service(BOB)
    event = cal.events().insert(calendarId="primary", body=timed(
        "Sync", START, END, attendees=[{"email": BOB}],
        extendedProperties={"shared": {"a": "1"}})).execute()
    with pytest.raises(HttpError) as info:
        bob.events().patch(calendarId="primary", eventId=event["id"], body={
            "extendedProperties": {"shared": {"a": "2"}}}).execute()
    assert info.value.status_code == 403
    assert info.value.error_details[0]["reason"] == "forbiddenForNonOrganizer"


def test_invite_notifies_attendee_channel(emu: RunningEmulator, cal: Any,
                                          make_service: Callable[..., Any],
                                          receiver: Receiver) -> None:
    bob = make_service(BOB)
    bob.events().watch(calendarId=BOB, body={"id": "bob-chan", "type": "web_hook",
                                             "address": receiver.url}).execute()
    receiver.wait_for(1)
    cal.events().insert(calendarId="primary", body=timed(
        "Sync", START, END, attendees=[{"email": BOB}])).execute()
    received = receiver.wait_for(2)
    assert received[1]["headers"]["X-Goog-Channel-ID"] == "bob-chan"
    assert received[1]["headers"]["X-Goog-Resource-State"] == "exists"


BOBBY = "bobby@example.com"
"""An alias of Bob's."""


def test_an_alias_invitation_lands_on_its_user_marked_self_and_answers_as_the_alias(
        emu: RunningEmulator, cal: Any, make_service: Callable[..., Any]) -> None:
    """As on Google: the copy lands on Bob's calendar, its attendee entry keeps the
    address he was invited by and is the one marked ``self``; his answer (by the alias,
    as his client reads it from that entry) reaches the organizer's copy."""
    emu.control({"add_aliases": {BOBBY: BOB}})
    bob = make_service(BOB)
    event = cal.events().insert(calendarId="primary", body=timed(
        "Sync", START, END, attendees=[{"email": BOBBY}, {"email": CAROL}])).execute()
    copy = bob.events().get(calendarId="primary", eventId=event["id"]).execute()
    assert [a for a in copy["attendees"] if a.get("self")] == [
        {"email": BOBBY, "responseStatus": "needsAction", "self": True}]
    assert BOB not in {a["email"] for a in copy["attendees"]}
    bob.events().patch(calendarId="primary", eventId=event["id"], body={
        "attendeesOmitted": True,
        "attendees": [{"email": BOBBY, "responseStatus": "declined"}]}).execute()
    mine = bob.events().get(calendarId="primary", eventId=event["id"]).execute()
    assert [a for a in mine["attendees"] if a.get("self")] == [  # still his, after his write
        {"email": BOBBY, "responseStatus": "declined", "self": True}]
    statuses = {a["email"]: a["responseStatus"] for a in cal.events().get(
        calendarId="primary", eventId=event["id"]).execute()["attendees"]}
    assert statuses == {BOBBY: "declined", CAROL: "needsAction"}
    carol_view = emu.state.get_event(CAROL, event["id"])
    assert {a["email"]: a["responseStatus"] for a in carol_view["attendees"]}[BOBBY] \
        == "declined"

    cal.events().patch(calendarId="primary", eventId=event["id"],
                       body={"attendees": [{"email": CAROL}]}).execute()
    assert emu.state.get_event(BOB, event["id"])["status"] == "cancelled"


def test_an_alias_must_be_a_free_address_of_the_domain(emu: RunningEmulator) -> None:
    for bad in ({"bob@elsewhere.example": BOB}, {ALICE: BOB}, {BOBBY: "nobody@example.com"}):
        with pytest.raises(ValueError, match="bad alias"):
            emu.control({"add_aliases": bad})
    emu.control({"add_aliases": {BOBBY: BOB}})
    emu.control({"add_aliases": {BOBBY: BOB}})  # the same again: nothing changes
    with pytest.raises(ValueError, match="another user"):
        emu.control({"add_aliases": {BOBBY: CAROL}})
