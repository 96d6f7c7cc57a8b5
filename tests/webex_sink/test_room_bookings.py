"""Room devices: a meeting inviting a room linked to a Webex workspace puts a booking on
the workspace's device (cloud xAPI Bookings.Put); moves rewrite it, cancellations clear it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from ..engine.conftest import Stack
from .conftest import ALICE, BOB, ROOM, WebexWorld, at

pytestmark = pytest.mark.anyio


def device_bookings(world: WebexWorld) -> list[dict[str, Any]]:
    [device] = list(world.webex.state.devices)
    return world.webex.state.device_bookings(device)


def starts(world: WebexWorld) -> list[datetime]:
    return [datetime.fromisoformat(b["Time"]["StartTime"].replace("Z", "+00:00"))
            for b in device_bookings(world)]


async def test_hook_mirror_meetings_books_moves_and_clears_the_room_device(
        world: WebexWorld, stack: Stack) -> None:
    event = world.google.state.insert_event(ALICE, at(4, 60, summary="Room review",
                                                      location="@webex:onetime",
                                                      attendees=[{"email": BOB},
                                                                 {"email": ROOM,
                                                                  "resource": True}]))
    world.google.state.insert_event(ALICE, at(6, summary="No room",
                                              location="https://acme.zoom.us/j/1234567890"))
    await stack.activate(ALICE)
    [meeting] = world.meetings(ALICE)
    [booking] = device_bookings(world)
    assert booking["Title"] == "Room review"
    assert booking["Organizer"]["Name"] == ALICE
    calls = booking.get("DialInfo", {}).get("Calls", {}).get("Call") or []
    assert meeting["sipAddress"] in ([c.get("Number") for c in calls]
                                     + [booking.get("Number")])

    later = datetime.now(UTC).replace(second=0, microsecond=0) + timedelta(hours=8)
    world.google.state.patch_event(ALICE, event["id"], {
        "start": {"dateTime": later.isoformat()},
        "end": {"dateTime": (later + timedelta(hours=1)).isoformat()}})
    await stack.idle()
    assert starts(world) == [later]  # rewritten, not added

    world.google.state.delete_event(ALICE, event["id"])
    await stack.idle()
    assert device_bookings(world) == []


async def test_a_meeting_deleted_unseen_leaves_the_device_at_the_next_full_sync(
        world: WebexWorld, stack: Stack) -> None:
    """No push reached the gateway and a full sync lists no tombstone: the booking goes
    all the same."""
    event = world.google.state.insert_event(ALICE, at(4, summary="Room review",
                                                      location="https://acme.zoom.us/j/12345678",
                                                      attendees=[{"email": ROOM,
                                                                  "resource": True}]))
    await stack.activate(ALICE)
    assert [b["Title"] for b in device_bookings(world)] == ["Room review"]

    world.google.control({"drop_notifications": 1.0})
    world.google.state.delete_event(ALICE, event["id"])
    await stack.idle()
    assert [b["Title"] for b in device_bookings(world)] == ["Room review"]  # not told
    world.google.state.invalidate_sync_tokens(ALICE)  # the next sync is a full one
    response = await stack.admin.post(f"/api/v1/users/{stack.user_ids[ALICE]}/sync")
    assert response.status_code == 202, response.text
    await stack.idle()
    assert device_bookings(world) == []


async def test_a_hidden_title_room_shows_booked(world: WebexWorld) -> None:
    from .conftest import running_gateway

    world.google.state.insert_event(ALICE, at(4, summary="Secret plans",
                                              location="@webex",
                                              attendees=[{"email": ROOM, "resource": True}]))
    async with running_gateway(world, webex={"hidden_title_rooms": [ROOM]}) as stack:
        await stack.activate(ALICE)
        [booking] = device_bookings(world)
        assert booking["Title"] == "Booked"


async def test_a_room_that_declined_the_meeting_gets_no_booking_until_it_accepts(
        world: WebexWorld, stack: Stack) -> None:
    """A resource calendar declines a meeting that conflicts with one it accepted
    (Google's auto-decline): the room's device must not show a Join button for a meeting
    that will not take place there, and must show it once the room accepts."""
    def attendees(room_answer: str) -> list[dict[str, Any]]:
        return [{"email": BOB},
                {"email": ROOM, "resource": True, "responseStatus": room_answer}]

    event = world.google.state.insert_event(ALICE, at(
        4, 60, summary="Clashing review", location="https://acme.zoom.us/j/12345678",
        attendees=attendees("declined")))
    await stack.activate(ALICE)
    assert device_bookings(world) == []

    world.google.state.patch_event(ALICE, event["id"], {"attendees": attendees("accepted")})
    await stack.idle()
    assert [b["Title"] for b in device_bookings(world)] == ["Clashing review"]

    world.google.state.patch_event(ALICE, event["id"], {"attendees": attendees("declined")})
    await stack.idle()
    assert device_bookings(world) == []


async def test_a_room_declining_one_instance_of_a_series_loses_that_booking_only(
        world: WebexWorld, stack: Stack) -> None:
    """A daily series books the room each day; the room's calendar declines one
    instance (a clash that day): that day's booking goes, the others stay."""
    series = world.google.state.insert_event(ALICE, at(
        4, 30, summary="Daily check", location="https://acme.zoom.us/j/12345678",
        recurrence=["RRULE:FREQ=DAILY;COUNT=3"],
        attendees=[{"email": BOB}, {"email": ROOM, "resource": True,
                                    "responseStatus": "accepted"}]))
    await stack.activate(ALICE)
    before = starts(world)
    assert len(before) == 3
    instances = sorted((m for m in await stack.meetings(ALICE)), key=lambda m: m["start"])
    assert len(instances) == 3 and all(series["id"] in m["event_id"] for m in instances)
    world.google.state.patch_event(ALICE, instances[1]["event_id"], {"attendees": [
        {"email": BOB}, {"email": ROOM, "resource": True, "responseStatus": "declined"}]})
    await stack.idle()
    assert starts(world) == [before[0], before[2]]
