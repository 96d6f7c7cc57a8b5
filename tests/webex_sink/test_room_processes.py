"""Two gateway processes on one PostgreSQL database change one room at the same moment.

* Two organisers' meetings book the room, each mirrored by the process running its
  organiser's sync: the room's record keeps both bookings, and so do its devices, also
  after the next periodic convergence (which brings the devices to the record). Each
  process's room lock is its own, so only the store's atomic update of the room's record
  and of the room index keeps one process from writing over the other's booking. The
  two mirrors are started together with ``asyncio.gather`` (each on its own gateway,
  store and connection pool) so that their reads and writes interleave; a few rounds,
  each booking two new meetings.
* Two processes converge the room's device at once and one's ``Bookings.Clear`` lands
  between the other's ``Put``s (the Webex emulator's latency orders the calls): the
  device still ends with every booking of the room."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta

import pytest

from hybrid_calendar.models import JoinInfo, Meeting, User
from hybrid_calendar_webex import room_records as records
from hybrid_calendar_webex.bookings import (
    ROOMS_TTL,
    booking_for,
    booking_id,
    mirror_meetings,
    room_devices,
)
from hybrid_calendar_webex.context import context
from hybrid_calendar_webex.room_converge import converge_device, converge_rooms

from ..engine.conftest import Stack
from .conftest import ALICE, BOB, ROOM, WebexWorld, running_gateway

pytestmark = pytest.mark.anyio

ROUNDS = 5
"""Rounds of two meetings booked at once (one per process)."""


@dataclass
class TwoProcesses:
    """Two gateways on one PostgreSQL database, and the users they mirror for."""

    first: Stack
    second: Stack
    alice: User
    bob: User


@pytest.fixture
async def two_gateways(world: WebexWorld, postgres_url: str) -> AsyncIterator[TwoProcesses]:
    async with running_gateway(world, database=postgres_url) as first, \
            running_gateway(world, database=postgres_url, provision=False) as second:
        await first.activate(ALICE)
        await first.activate(BOB)
        await second.idle()
        alice = await first.gateway.store.get_user(first.user_ids[ALICE])
        bob = await first.gateway.store.get_user(first.user_ids[BOB])
        assert alice is not None and bob is not None
        for stack in (first, second):  # each has read the room map: the mirrors run alike
            await room_devices(stack.gateway,
                               context(stack.gateway).client(stack.gateway, "org1"), "org1")
        yield TwoProcesses(first, second, alice, bob)


def room_meeting(stack: Stack, user: User, event_id: str, hours: float) -> Meeting:
    """A meeting ``user`` organises, inviting the room, ``hours`` from the gateway's now."""
    start = stack.clock.now().replace(microsecond=0) + timedelta(hours=hours)
    return Meeting(user_id=user.id, event_id=event_id, calendar_id="primary",
                   status="confirmed", start=start, end=start + timedelta(minutes=30),
                   title=event_id, organizer=user.email, attendees=(user.email, ROOM),
                   join=JoinInfo(provider="zoom", url="https://acme.zoom.us/j/12345678",
                                 source="location"))


async def test_two_processes_booking_one_room_at_once_keep_both_bookings(
        world: WebexWorld, two_gateways: TwoProcesses) -> None:
    first, second = two_gateways.first, two_gateways.second
    [device] = list(world.webex.state.devices)
    booked: list[str] = []
    for round_ in range(ROUNDS):
        mine = room_meeting(first, two_gateways.alice, f"alice-{round_}", 2 + round_)
        theirs = room_meeting(second, two_gateways.bob, f"bob-{round_}", 2.5 + round_)
        await asyncio.gather(
            mirror_meetings(first.gateway, two_gateways.alice, [mine], []),
            mirror_meetings(second.gateway, two_gateways.bob, [theirs], []))
        booked += [booking_id(mine.event_id), booking_id(theirs.event_id)]

    recorded = await records.read_room(first.gateway.store, "org1", ROOM, [device])
    assert sorted(recorded) == sorted(booked), \
        f"{len(set(booked) - set(recorded))} of {len(booked)} bookings lost"
    assert await records.read_index(second.gateway.store, "org1") == {ROOM}
    shown = {b["Id"] for b in world.webex.state.device_bookings(device)}
    assert shown == set(booked)

    await first.advance(ROOMS_TTL)  # a periodic convergence: the device follows the record
    shown = {b["Id"] for b in world.webex.state.device_bookings(device)}
    assert shown == set(booked), f"{len(set(booked) - shown)} bookings left the device"


LATENCY = 0.2
"""Seconds the Webex emulator waits before it handles each request (orders the calls)."""


async def test_a_clear_landing_between_another_processs_puts_loses_no_booking(
        world: WebexWorld, two_gateways: TwoProcesses) -> None:
    """The room's record holds X, Y and Z; the device's record an older booking W.
    Process 2 converges the room: Clear, Put X, Put Y, Put Z (one request per LATENCY).
    Process 1, with an older view in which the room is empty, converges the device from
    2.5 LATENCY on: its Clear lands after Y, before Z, and it records the device empty
    before process 2 records X, Y and Z. Only Z is on the device then; process 2 must
    notice that the device's record changed under it and put X and Y again; else the
    device's record claims X, Y and Z and no convergence puts X and Y again."""
    first, second = two_gateways.first, two_gateways.second
    [device] = list(world.webex.state.devices)
    store = first.gateway.store
    meetings = {name: room_meeting(first, two_gateways.alice, name, hours)
                for name, hours in (("W", 1), ("X", 2), ("Y", 3), ("Z", 4))}
    bookings = {name: booking_for(m) for name, m in meetings.items()}
    room = {bookings[n]["Id"]: bookings[n] for n in "XYZ"}
    await store.put_org_secret("org1", records.room_secret(ROOM), json.dumps(room))
    await store.put_org_secret("org1", records.device_secret(device), json.dumps(
        {"bookings": {bookings["W"]["Id"]: bookings["W"]}, "must_clear": False}))
    await store.put_org_secret("org1", records.ROOM_INDEX, json.dumps([ROOM]))
    room_map = {ROOM: [device]}

    async def older_view() -> None:
        await asyncio.sleep(2.5 * LATENCY)
        await converge_device(first.gateway, context(first.gateway).client(
            first.gateway, "org1"), "org1", device, {})

    world.webex.control({"latency_ms": LATENCY * 1000})
    await asyncio.gather(
        converge_rooms(second.gateway, context(second.gateway).client(
            second.gateway, "org1"), "org1", room_map, [ROOM]),
        older_view())
    world.webex.control({"latency_ms": 0})
    await first.advance(ROOMS_TTL)  # a periodic convergence changes nothing now
    shown = {b["Id"] for b in world.webex.state.device_bookings(device)}
    assert shown == set(room), f"{len(set(room) - shown)} of 3 bookings left the device"
    written = await records.read_device(store, "org1", device)
    assert written is not None and set(written[0]) == set(room) and not written[1]
