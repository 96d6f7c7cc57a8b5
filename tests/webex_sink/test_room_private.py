"""A private event's title and organiser never reach a room's devices: the panel outside
the room is in public view. Google events marked ``visibility: private`` (or
``confidential``) are booked as "Booked" without organiser in every room, hidden-title
room or not; an event made private after it was booked is hidden by its next sync; a
public (or default) one still shows its title."""

from __future__ import annotations

from typing import Any

import pytest

from hybrid_calendar_webex import room_records as records

from ..engine.conftest import Stack
from .conftest import ALICE, ROOM, WebexWorld, insert_room_event, room_bookings

pytestmark = pytest.mark.anyio


def room_event(world: WebexWorld, summary: str, hours: float, **extra: Any) -> dict[str, Any]:
    """An event of Alice's inviting Bob and the room, with a join link to parse."""
    return insert_room_event(world, summary, hours, **extra)


def shown(world: WebexWorld) -> list[tuple[str, str]]:
    """(Title, Organizer.Name) of each booking the room's device shows, in start order."""
    return [(b["Title"], (b.get("Organizer") or {}).get("Name") or "")
            for b in room_bookings(world)]


async def recorded(world: WebexWorld, stack: Stack) -> str:
    """The room's record (what its devices should show), as text."""
    devices = list(world.webex.state.devices)
    return repr(await records.read_room(stack.gateway.store, "org1", ROOM, devices))


@pytest.mark.parametrize("visibility", ["private", "confidential"])
async def test_a_private_event_is_booked_without_title_or_organiser(
        world: WebexWorld, stack: Stack, visibility: str) -> None:
    room_event(world, "Layoff planning", 4, visibility=visibility)
    room_event(world, "Team lunch", 6, visibility="public")
    room_event(world, "Weekly sync", 8, visibility="default")
    await stack.activate(ALICE)
    assert shown(world) == [("Booked", ""), ("Team lunch", ALICE), ("Weekly sync", ALICE)]
    assert "Team lunch" in await recorded(world, stack)
    assert "Layoff planning" not in await recorded(world, stack)


async def test_an_event_made_private_later_is_hidden_at_its_next_sync(
        world: WebexWorld, stack: Stack) -> None:
    event = room_event(world, "Layoff planning", 4)
    await stack.activate(ALICE)
    assert shown(world) == [("Layoff planning", ALICE)]

    world.google.state.patch_event(ALICE, event["id"], {"visibility": "private"})
    await stack.idle()
    assert shown(world) == [("Booked", "")]

    world.google.state.patch_event(ALICE, event["id"], {"visibility": "public"})
    await stack.idle()
    assert shown(world) == [("Layoff planning", ALICE)]  # public again: shown again


async def test_a_private_event_stays_hidden_in_a_room_taken_off_the_hidden_list(
        world: WebexWorld) -> None:
    """The hidden-title setting only ever hides more: a room not on the list still shows
    a private event as "Booked"."""
    from .conftest import running_gateway

    room_event(world, "Layoff planning", 4, visibility="private")
    async with running_gateway(world, webex={"hidden_title_rooms": [ROOM]}) as stack:
        await stack.activate(ALICE)
        assert shown(world) == [("Booked", "")]
    async with running_gateway(world, provision=False) as stack:
        await stack.idle()
        assert shown(world) == [("Booked", "")]
        assert "Layoff planning" not in await recorded(world, stack)
