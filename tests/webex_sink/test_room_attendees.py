"""Only the organiser's sync changes a meeting's room booking: an attendee's copy of the
event (same event id) that leaves the attendee's calendar leaves the booking alone.

Alice organises, Bob is invited and both are gateway users. Push is off, so each test
runs the two syncs in the order it chooses: the organiser's first, then the attendee's
(the order in which, before the fix, the attendee's sync removed the organiser's
booking for good)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from hybrid_calendar_webex import room_records as records
from hybrid_calendar_webex.bookings import ROOMS_TTL

from ..engine.conftest import Stack
from .conftest import ALICE, BOB, DAVE, ROOM, WebexWorld, insert_room_event, room_titles

pytestmark = pytest.mark.anyio


def room_event(world: WebexWorld, organiser: str, summary: str, hours: float
               ) -> dict[str, Any]:
    """An event of ``organiser``'s inviting Bob and the room, with a join link."""
    return insert_room_event(world, summary, hours, organiser=organiser)


async def sync(stack: Stack, email: str) -> None:
    """Run one sync of ``email`` (push is off) and wait until it is done."""
    response = await stack.admin.post(f"/api/v1/users/{stack.user_ids[email]}/sync")
    assert response.status_code == 202, response.text
    await stack.idle()


async def both_active(world: WebexWorld, stack: Stack) -> dict[str, Any]:
    event = room_event(world, ALICE, "Room review", 4)
    await stack.activate(ALICE)
    await stack.activate(BOB)
    assert room_titles(world) == ["Room review"]
    world.google.control({"drop_notifications": 1.0})
    return event


async def test_an_attendee_deleting_their_copy_leaves_the_organisers_booking(
        world: WebexWorld, stack: Stack) -> None:
    event = await both_active(world, stack)
    world.google.state.delete_event(BOB, event["id"])  # Bob's copy only: Bob declines
    await sync(stack, ALICE)
    await sync(stack, BOB)
    assert room_titles(world) == ["Room review"]
    await stack.advance(ROOMS_TTL)  # the room's record still holds the booking
    assert room_titles(world) == ["Room review"]

    world.google.state.delete_event(ALICE, event["id"])  # the organiser cancels
    await sync(stack, BOB)
    assert room_titles(world) == ["Room review"]  # Bob's copy went long ago
    await sync(stack, ALICE)
    assert room_titles(world) == []


async def test_an_attendee_taken_off_the_guest_list_leaves_the_organisers_booking(
        world: WebexWorld, stack: Stack) -> None:
    event = await both_active(world, stack)
    world.google.state.patch_event(ALICE, event["id"], {
        "attendees": [{"email": ROOM, "resource": True}]})  # Bob's copy is cancelled
    await sync(stack, ALICE)
    await sync(stack, BOB)
    assert room_titles(world) == ["Room review"]
    record = await stack.gateway.store.get_org_secret(
        "org1", records.event_rooms_secret(event["id"]))
    assert record is not None
    assert json.loads(record) == {"rooms": [ROOM], "user": stack.user_ids[ALICE]}


async def test_an_attendee_deleting_a_copy_booked_by_an_earlier_version_leaves_it(
        world: WebexWorld, stack: Stack) -> None:
    """An earlier version recorded an event's rooms as a plain list, without the user
    whose booking it is: the room's booking names its organiser, so Bob's deletion is
    told from Alice's; the organiser's next sync of the meeting writes the new shape."""
    event = await both_active(world, stack)
    store = stack.gateway.store
    await store.put_org_secret("org1", records.event_rooms_secret(event["id"]),
                               json.dumps([ROOM]))
    world.google.state.delete_event(BOB, event["id"])
    await sync(stack, BOB)  # before Alice's sync rewrites the record
    assert room_titles(world) == ["Room review"]
    name = records.event_rooms_secret(event["id"])
    assert json.loads(await store.get_org_secret("org1", name) or "null") == [ROOM]
    await sync(stack, ALICE)  # Bob declined: Alice's copy changed; her sync names her
    assert json.loads(await store.get_org_secret("org1", name) or "null") == {
        "rooms": [ROOM], "user": stack.user_ids[ALICE]}
    assert room_titles(world) == ["Room review"]

    world.google.state.delete_event(ALICE, event["id"])
    await sync(stack, ALICE)
    assert room_titles(world) == []


async def test_a_meeting_whose_organiser_is_no_gateway_user_books_nothing(
        world: WebexWorld, stack: Stack) -> None:
    """Dave organises but is not a gateway user: only the organiser's copy is mirrored,
    so Bob's copy books nothing, and its deletion removes nothing."""
    event = room_event(world, DAVE, "Dave's review", 4)
    await stack.activate(BOB)
    assert room_titles(world) == []
    world.google.state.delete_event(BOB, event["id"])
    await stack.idle()
    assert room_titles(world) == []
