"""Two gateway processes on one PostgreSQL database book the same room at the same moment
(two organisers' meetings, each mirrored by the process running its organiser's sync):
the room's record keeps both bookings, and so do its devices, also after the next
periodic convergence (which brings the devices to the record).

Each process's room lock is its own, so only the store's atomic update of the room's
record and of the room index keeps one process from writing over the other's booking.
The two mirrors are started together with ``asyncio.gather`` (each on its own gateway,
its own store and connection pool) so that their reads and writes interleave; a few
rounds, each booking two new meetings."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta

import pytest

from hybrid_calendar.models import JoinInfo, Meeting, User
from hybrid_calendar_webex import room_records as records
from hybrid_calendar_webex.bookings import ROOMS_TTL, booking_id, mirror_meetings, room_devices
from hybrid_calendar_webex.context import context

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
