"""Join buttons on room devices: bookings put on the devices of a meeting's room.

A meeting that invites a room resource calendar linked to a Webex workspace
(``GET /workspaces?calendar=google``: ``calendar.emailAddress``) gets a booking on each
of the workspace's devices (``GET /devices?workspaceId=``) through cloud xAPI
(``POST /xapi/command/Bookings.Put`` with ``{"deviceId", "body": {"Booking": {...}}}``):
title (or "Booked" on the devices of the rooms in ``webex.hidden_title_rooms``, from
their next convergence: :mod:`.room_converge`), start, duration, organiser and the
number to dial, so the device shows its Join button. A room that declined the meeting
(its calendar refused a conflict) gets no booking, and loses the one it had. A private
meeting
(:attr:`~hybrid_calendar.models.Meeting.private`: its organiser marked the event
private) is booked as "Booked" without organiser on every room's devices, whatever the
room's setting: a room's panel is in public view. Its room's record never holds its
title either.

The gateway keeps, per room, the bookings its devices should show, and per device what
was last written to it with success (:mod:`.room_records`). When a meeting is booked,
changes, moves, drops the room or is cancelled, :func:`mirror_meetings` updates the
records of the rooms concerned and converges their devices (:mod:`.room_converge`);
every :data:`ROOMS_TTL` the rooms converge again without any meeting changing
(:mod:`.room_keeper`). Only the organiser's copy of a meeting is mirrored. Cisco's
licence note on ``Bookings.Put`` is in docs/webex.md.
"""

from __future__ import annotations

import functools
import hashlib
import logging
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from hybrid_calendar.errors import GatewayError
from hybrid_calendar_webex import room_records as records
from hybrid_calendar_webex.context import context
from hybrid_calendar_webex.room_converge import HIDDEN_TITLE, converge_rooms

if TYPE_CHECKING:
    from hybrid_calendar.gateway import Gateway
    from hybrid_calendar.models import Meeting, User
    from hybrid_calendar_webex.client import WebexClient

log = logging.getLogger(__name__)

ROOMS_TTL = timedelta(minutes=10)
"""How long the room-calendar → devices map of an organisation is reused, and how often
the rooms converge without any meeting changing."""


def booking_id(event_id: str) -> str:
    """The booking's ``Id`` for an event (stable, no event text)."""
    return "hc-" + hashlib.sha256(event_id.encode()).hexdigest()[:24]


def _z(when: datetime) -> str:
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def booking_for(meeting: Meeting) -> dict[str, Any]:
    """The ``Booking`` object for a meeting, as the room's record keeps it: with the
    meeting's title (a hidden-title room's devices are given it without, as they
    converge: :func:`.room_converge.as_shown`).

    A private meeting's booking has ``Title`` :data:`~.room_converge.HIDDEN_TITLE` and
    an empty ``Organizer.Name``: the room's record holds it so, and no device of any room
    is ever given its title or organiser."""
    assert meeting.join is not None
    minutes = max(1, int((meeting.end - meeting.start).total_seconds() // 60))
    private = meeting.private
    booking: dict[str, Any] = {
        "Id": booking_id(meeting.event_id),
        "Title": HIDDEN_TITLE if private else meeting.title,
        "Protocol": "SIP", "Time": {"StartTime": _z(meeting.start), "Duration": minutes},
        "Organizer": {"Name": "" if private else meeting.organizer or ""},
        "Number": meeting.join.dial or meeting.join.url or ""}
    return booking


async def room_devices(gateway: Gateway, client: WebexClient, org_id: str, *,
                       refresh: bool = False) -> dict[str, list[str]]:
    """Room calendar address (lower case) → ids of its workspace's xAPI devices (cached
    for :data:`ROOMS_TTL`; ``refresh`` reads it again). When it cannot be read, the last
    map read is used again for :data:`ROOMS_TTL` (logged).

    :raises GatewayError: no map was ever read and Webex did not answer one.
    """
    ctx = context(gateway)
    cached = ctx.rooms.get(org_id)
    now = gateway.clock.now()
    if cached is not None and now - cached[0] < ROOMS_TTL and not refresh:
        return cached[1]
    try:
        found = await _read_room_map(client)
    except GatewayError as err:
        if cached is None:
            raise
        log.warning("room map of organisation %s not read again (the last one is used): "
                    "%s", org_id, err)
        found = cached[1]
    ctx.rooms[org_id] = (now, found)
    return found


async def _read_room_map(client: WebexClient) -> dict[str, list[str]]:
    answer = await client.call("GET", "/workspaces", params={"calendar": "google",
                                                             "max": 1000}) or {}
    found: dict[str, list[str]] = {}
    for workspace in answer.get("items") or []:
        email = str((workspace.get("calendar") or {}).get("emailAddress") or "").lower()
        if not email:
            continue
        devices = await client.call("GET", "/devices", params={
            "workspaceId": workspace["id"], "max": 1000}) or {}
        found[email] = [str(d["id"]) for d in devices.get("items") or []
                        if "xapi" in (d.get("capabilities") or [])]
    return found


Changes = dict[str, dict[str, dict[str, Any] | None]]
"""Room → booking id → the booking to show, or ``None`` to remove it."""


async def mirror_meetings(gateway: Gateway, user: User, meetings: Sequence[Meeting],
                          deleted: Sequence[str]) -> None:
    """Bring the records and devices of the rooms these meetings invite (or invited)
    up to date.

    Only the organiser's copy of a meeting books rooms, and only the user whose booking
    it is removes it: an attendee's copy has the same event id as the organiser's, and
    leaves the attendee's calendar (deleted, declined, the attendee taken off the guest
    list) while the meeting goes on (:func:`_booked_by`)."""
    ctx = context(gateway)
    if not ctx.rooms_enabled:
        return
    mine = [m for m in meetings if (m.organizer or user.email).casefold()
            == user.email.casefold()]
    if not mine and not deleted:
        return
    client = ctx.client(gateway, user.org_id)
    try:
        room_map = await room_devices(gateway, client, user.org_id)
    except GatewayError as err:
        log.warning("room-device bookings for user %s not updated: %s", user.id, err)
        return
    if not room_map:
        return  # no workspace has a calendar: nothing was or can be booked
    changes: Changes = {}
    event_rooms: list[tuple[str, set[str], bool]] = []
    for event_id, targets in [*((m.event_id, _targets(m, room_map)) for m in mine),
                              *((event_id, None) for event_id in deleted)]:
        recorded = await records.read_event_rooms(gateway.store, user.org_id, event_id)
        before = set(recorded.rooms) | {room for room, devices in room_map.items()
                                        if set(devices) & set(recorded.legacy_devices)}
        if targets is None:  # a deletion: only the booking user's removes the booking
            if not before or not await _booked_by(gateway, user, event_id, recorded,
                                                  before, room_map):
                continue
            targets = {}
        key = booking_id(event_id)
        for room in before - set(targets):
            changes.setdefault(room, {})[key] = None
        for room, booking in targets.items():
            changes.setdefault(room, {})[key] = booking
        if (before != set(targets) or recorded.legacy_devices
                or (recorded.rooms and recorded.user != user.id)):
            event_rooms.append((event_id, set(targets), bool(recorded.legacy_devices)))
    if not changes and not event_rooms:
        return
    async with ctx.room_lock(user.org_id):
        await _record(gateway, user.org_id, room_map, changes)
        for event_id, rooms, had_legacy in event_rooms:
            await records.write_event_rooms(gateway.store, user.org_id, event_id, rooms,
                                            user.id, legacy_done=had_legacy)
        await converge_rooms(gateway, client, user.org_id, room_map, changes)


async def _booked_by(gateway: Gateway, user: User, event_id: str,
                     recorded: records.EventRooms, rooms: set[str],
                     room_map: dict[str, list[str]]) -> bool:
    """Whether ``user`` booked the event's ``rooms``, so that the event leaving the
    user's calendar removes the booking.

    The event's record of rooms names the user whose sync booked them. A record of an
    earlier version names nobody: then each room's booking of the event names its
    organiser (``Organizer.Name``, the organiser's address), and a booking naming
    another user's address makes the deletion another user's copy (a booking naming no
    organiser is taken as the user's own, as its meeting was when it was booked)."""
    if recorded.user is not None:
        return recorded.user == user.id
    key = booking_id(event_id)
    for room in sorted(rooms):
        booking = (await records.read_room(gateway.store, user.org_id, room,
                                           room_map.get(room, []))).get(key)
        organiser = str(((booking or {}).get("Organizer") or {}).get("Name") or "")
        if organiser and organiser.casefold() != user.email.casefold():
            return False
    return True


def _targets(meeting: Meeting, room_map: dict[str, list[str]]
             ) -> dict[str, dict[str, Any]]:
    """Room → the meeting's booking there (with its title: a hidden-title room's devices
    get it without, :func:`.room_converge.as_shown`; a private meeting's has neither
    title nor organiser, :func:`booking_for`), for each room of the map it invites that
    would show a Join button for it (:meth:`Meeting.joinable_by`: join information, not
    cancelled, not all-day, and not declined by the room: a resource calendar declines a
    meeting that conflicts with one it accepted, whose booking its devices show)."""
    rooms = {email.lower() for email in meeting.attendees} & set(room_map)
    return {room: booking_for(meeting) for room in rooms if meeting.joinable_by(room)}


async def _record(gateway: Gateway, org_id: str, room_map: dict[str, list[str]],
                  changes: Changes) -> None:
    """Apply ``changes`` to the rooms' records and keep those rooms in the index, each
    an atomic update of what is stored (another process may change the same room's
    record or the index at the same moment: :mod:`.room_records`). Each room's record is
    written before the index is read, so a room that a convergence takes out of the
    index meanwhile is put back (:func:`.room_converge.converge_rooms`)."""
    store = gateway.store
    now = gateway.clock.now()
    for room, updates in changes.items():
        await records.update_room(store, org_id, room, room_map.get(room, []),
                                  functools.partial(_apply, updates, now))
    await records.add_to_index(store, org_id, changes)


def _apply(updates: dict[str, dict[str, Any] | None], now: datetime,
           bookings: records.Bookings) -> records.Bookings:
    """``bookings`` with ``updates`` applied (``None`` removes a booking) and without
    those that ended by ``now``."""
    for key, booking in updates.items():
        if booking is None:
            bookings.pop(key, None)
        else:
            bookings[key] = booking
    return records.current_only(bookings, now)
