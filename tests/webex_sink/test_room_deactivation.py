"""Deactivating a user removes the room bookings their meetings made: once deactivated,
the gateway no longer follows their calendar, so a booking it left on a room's devices
would show a meeting that may since have moved or been cancelled, until it ended.

Alice organises a meeting that invites the room; Bob is invited. Only the booking user's
deactivation removes the booking: Bob's leaves Alice's alone."""

from __future__ import annotations

import json

import pytest

from hybrid_calendar_webex import room_records as records
from hybrid_calendar_webex.bookings import ROOMS_TTL

from ..engine.conftest import Stack
from .conftest import ALICE, BOB, ROOM, WebexWorld, insert_room_event, room_titles

pytestmark = pytest.mark.anyio


async def test_deactivating_the_organiser_removes_their_room_bookings(
        world: WebexWorld, stack: Stack) -> None:
    event = insert_room_event(world, "Room review", 4, organiser=ALICE)
    other = insert_room_event(world, "Room retro", 6, organiser=ALICE)
    await stack.activate(ALICE)
    assert sorted(room_titles(world)) == ["Room retro", "Room review"]

    await stack.deactivate(ALICE)
    assert room_titles(world) == []
    for event_id in (event["id"], other["id"]):  # the events' records hold no room
        record = await stack.gateway.store.get_org_secret(
            "org1", records.event_rooms_secret(event_id))
        assert record is not None and json.loads(record)["rooms"] == []
    await stack.advance(ROOMS_TTL)  # the rooms converge again: nothing comes back
    assert room_titles(world) == []


async def test_deactivating_an_attendee_leaves_the_organisers_booking(
        world: WebexWorld, stack: Stack) -> None:
    event = insert_room_event(world, "Room review", 4, organiser=ALICE)
    await stack.activate(ALICE)
    await stack.activate(BOB)
    assert room_titles(world) == ["Room review"]

    await stack.deactivate(BOB)
    assert room_titles(world) == ["Room review"]
    await stack.advance(ROOMS_TTL)
    assert room_titles(world) == ["Room review"]
    record = await stack.gateway.store.get_org_secret(
        "org1", records.event_rooms_secret(event["id"]))
    assert record is not None and json.loads(record) == {
        "rooms": [ROOM], "user": stack.user_ids[ALICE]}
