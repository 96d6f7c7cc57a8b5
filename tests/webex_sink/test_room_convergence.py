"""Room devices converge to their room's bookings without any meeting changing: a device
added to the room later, a write that failed and a removal an offline device missed are
caught up at the next periodic convergence (every ROOMS_TTL by the gateway's clock);
with nothing to do, no xAPI call is made."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from hybrid_calendar_webex import room_records as records
from hybrid_calendar_webex.bookings import ROOMS_TTL, booking_id
from hybrid_calendar_webex_emulator.workspaces import add_device
from hybrid_calendar_webex_emulator.xapi import normalise

from ..engine.conftest import Stack
from .conftest import ALICE, BOB, ROOM, WebexWorld, at

pytestmark = pytest.mark.anyio


def room_event(world: WebexWorld, summary: str, hours: float) -> dict[str, Any]:
    """An event of Alice's inviting Bob and the room, with a join link to parse."""
    return world.google.state.insert_event(ALICE, at(
        hours, summary=summary, location="https://acme.zoom.us/j/12345678",
        attendees=[{"email": BOB}, {"email": ROOM, "resource": True}]))


def titles(world: WebexWorld, device: str) -> list[str]:
    """The titles of the bookings a device shows, in start order."""
    return [b["Title"] for b in world.webex.state.device_bookings(device)]


def the_device(world: WebexWorld) -> str:
    [device] = list(world.webex.state.devices)
    return device


def new_device(world: WebexWorld) -> str:
    """A device an administrator adds to the room's workspace."""
    [workspace] = list(world.webex.state.workspaces)
    return str(add_device(world.webex.state, workspace)["id"])


def xapi_calls(world: WebexWorld) -> int:
    return world.webex_calls("POST", "/xapi/")


async def test_a_device_added_to_the_room_gets_its_bookings_at_the_next_convergence(
        world: WebexWorld, stack: Stack) -> None:
    room_event(world, "Room review", 4)
    room_event(world, "Planning", 6)
    await stack.activate(ALICE)
    first = the_device(world)
    assert titles(world, first) == ["Room review", "Planning"]

    added = new_device(world)
    await stack.idle()
    assert titles(world, added) == []  # the room map is not read again yet
    await stack.advance(ROOMS_TTL)
    assert titles(world, added) == ["Room review", "Planning"]
    assert titles(world, first) == ["Room review", "Planning"]


async def test_a_failed_put_is_retried_at_the_next_convergence_and_logged_once(
        world: WebexWorld, stack: Stack, caplog: pytest.LogCaptureFixture) -> None:
    world.webex.control({"errors": [{"status": 429, "path": r"Bookings\.Put",
                                     "retryAfter": 1, "count": 2}]})
    room_event(world, "Room review", 4)
    with caplog.at_level(logging.DEBUG, logger="hybrid_calendar_webex"):
        await stack.activate(ALICE)
        device = the_device(world)
        assert titles(world, device) == []  # the Put answered 429
        await stack.advance(ROOMS_TTL)
        assert titles(world, device) == []  # 429 once more
        await stack.advance(ROOMS_TTL)
        assert titles(world, device) == ["Room review"]
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING
                and r.name == "hybrid_calendar_webex.room_converge"]
    assert len(warnings) == 1, [r.getMessage() for r in warnings]
    assert device in warnings[0].getMessage()
    assert any("up to date again" in r.getMessage() for r in caplog.records)


async def test_a_booking_cleared_while_the_device_was_offline_leaves_it_once_online(
        world: WebexWorld, stack: Stack) -> None:
    dropped = room_event(world, "Room review", 4)
    room_event(world, "Planning", 6)
    await stack.activate(ALICE)
    device = the_device(world)
    assert titles(world, device) == ["Room review", "Planning"]

    world.webex.control({"device_connection": {device: "disconnected"}})
    world.google.state.patch_event(ALICE, dropped["id"], {"attendees": [{"email": BOB}]})
    await stack.idle()
    world.webex.control({"device_connection": {device: "connected"}})
    assert titles(world, device) == ["Room review", "Planning"]  # it missed the Clear
    await stack.advance(ROOMS_TTL)
    assert titles(world, device) == ["Planning"]


async def test_a_second_convergence_with_nothing_changed_makes_no_xapi_call(
        world: WebexWorld, stack: Stack) -> None:
    room_event(world, "Room review", 4)
    await stack.activate(ALICE)
    added = new_device(world)
    await stack.advance(ROOMS_TTL)
    assert titles(world, added) == ["Room review"]

    calls, map_reads = xapi_calls(world), world.webex_calls("GET", "/workspaces")
    await stack.advance(ROOMS_TTL)
    assert world.webex_calls("GET", "/workspaces") == map_reads + 1  # it did converge
    assert xapi_calls(world) == calls


async def test_bookings_recorded_before_room_records_existed_are_kept_or_removed(
        world: WebexWorld, stack: Stack) -> None:
    """An earlier version kept only device records (the bookings alone) and, per event,
    the devices booked. Such a room starts from its devices' records: a booking of a
    meeting not synced since stays; one whose meeting dropped the room goes."""
    device = the_device(world)
    dropped = world.google.state.insert_event(ALICE, at(
        5, summary="Room review", location="https://acme.zoom.us/j/12345678",
        attendees=[{"email": BOB}]))  # dropped the room while the gateway was upgraded
    room_event(world, "Planning", 6)
    start = datetime.now(UTC).replace(second=0, microsecond=0) + timedelta(hours=3)
    kept = {"Id": booking_id("an-event-of-bob"), "Title": "Earlier booking",
            "Protocol": "SIP", "Organizer": {"Name": "Bob"}, "Number": "1234@example.com",
            "Time": {"StartTime": start.strftime("%Y-%m-%dT%H:%M:%SZ"), "Duration": 30}}
    gone = {**kept, "Id": booking_id(dropped["id"]), "Title": "Room review",
            "Time": {"StartTime": (start + timedelta(hours=2)).strftime(
                "%Y-%m-%dT%H:%M:%SZ"), "Duration": 30}}
    with world.webex.state.lock:
        world.webex.state.bookings[device] = [normalise(kept), normalise(gone)]
    store = stack.gateway.store
    await store.put_org_secret("org1", records.device_secret(device), json.dumps(
        {kept["Id"]: kept, gone["Id"]: gone}))
    await store.put_org_secret("org1", records.legacy_event_secret(dropped["id"]),
                               json.dumps([device]))

    await stack.activate(ALICE)
    assert titles(world, device) == ["Earlier booking", "Planning"]
    assert await store.get_org_secret(
        "org1", records.legacy_event_secret(dropped["id"])) == "[]"
    calls = xapi_calls(world)
    await stack.advance(ROOMS_TTL)
    assert titles(world, device) == ["Earlier booking", "Planning"]
    assert xapi_calls(world) == calls


async def test_when_the_room_map_cannot_be_read_again_the_last_one_is_used(
        world: WebexWorld, stack: Stack) -> None:
    world.webex.control({"errors": [{"status": 429, "path": r"Bookings\.Put",
                                     "retryAfter": 1}]})
    room_event(world, "Room review", 4)
    await stack.activate(ALICE)
    device = the_device(world)
    assert titles(world, device) == []

    world.webex.control({"errors": [{"status": 503, "path": "/workspaces$",
                                     "method": "GET"}]})
    map_reads = world.webex_calls("GET", "/workspaces")
    await stack.advance(ROOMS_TTL)
    assert world.webex_calls("GET", "/workspaces") == map_reads + 1  # answered 503
    assert titles(world, device) == ["Room review"]


async def test_an_offline_device_does_not_keep_the_other_devices_of_the_room_waiting(
        world: WebexWorld, stack: Stack) -> None:
    offline = the_device(world)
    online = new_device(world)
    world.webex.control({"device_connection": {offline: "disconnected"}})
    room_event(world, "Room review", 4)
    await stack.activate(ALICE)
    assert titles(world, online) == ["Room review"]
    assert titles(world, offline) == []

    world.webex.control({"device_connection": {offline: "connected"}})
    await stack.advance(ROOMS_TTL)
    assert titles(world, offline) == ["Room review"]
    assert titles(world, online) == ["Room review"]
