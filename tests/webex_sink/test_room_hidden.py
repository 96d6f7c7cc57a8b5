"""``webex.hidden_title_rooms`` reaches the bookings a room already has at its next
convergence, without any meeting changing: the setting changes with a restart (the
configuration is read at start), and the restarted gateway's periodic convergence puts
"Booked" in place of each title on the room's devices. Taken off the list, the room gets
the titles back the same way (its record keeps them; a hidden room's devices never
get them)."""

from __future__ import annotations

from typing import Any

import pytest

from hybrid_calendar_webex.bookings import ROOMS_TTL

from .conftest import (
    ALICE,
    ROOM,
    WebexWorld,
    insert_room_event,
    room_bookings,
    running_gateway,
)

pytestmark = pytest.mark.anyio


def room_event(world: WebexWorld, summary: str, hours: float) -> dict[str, Any]:
    """An event of Alice's inviting Bob and the room, with a join link to parse."""
    return insert_room_event(world, summary, hours)


def titles(world: WebexWorld) -> list[str]:
    """The titles of the bookings the room's device shows, in start order."""
    return [b["Title"] for b in room_bookings(world)]


async def test_a_room_hidden_later_shows_booked_from_its_next_convergence(
        world: WebexWorld) -> None:
    room_event(world, "Secret plans", 4)
    async with running_gateway(world) as stack:
        await stack.activate(ALICE)
        assert titles(world) == ["Secret plans"]

    async with running_gateway(world, provision=False,
                               webex={"hidden_title_rooms": [ROOM.upper()]}) as stack:
        await stack.advance(ROOMS_TTL)
        assert titles(world) == ["Booked"]
        room_event(world, "Merger talks", 6)  # booked while the room is hidden
        user = await stack.user(ALICE)  # no push reaches this gateway: sync by hand
        response = await stack.admin.post(f"/api/v1/users/{user['id']}/sync")
        assert response.status_code == 202, response.text
        await stack.idle()
        assert titles(world) == ["Booked", "Booked"]
        puts = world.webex_calls("POST", "Bookings.Put")
        await stack.advance(ROOMS_TTL)
        assert world.webex_calls("POST", "Bookings.Put") == puts  # nothing differs

    async with running_gateway(world, provision=False) as stack:
        await stack.advance(ROOMS_TTL)
        assert titles(world) == ["Secret plans", "Merger talks"]
