"""Join buttons on room devices: bookings put on the devices of a meeting's room.

A meeting that invites a room resource calendar linked to a Webex workspace
(``GET /workspaces?calendar=google``: ``calendar.emailAddress``) gets a booking on each
of the workspace's devices (``GET /devices?workspaceId=``) through cloud xAPI
(``POST /xapi/command/Bookings.Put`` with ``{"deviceId", "body": {"Booking": {...}}}``):
title (or "Booked" for the rooms in ``webex.hidden_title_rooms``), start, duration,
organiser and the number to dial, so the device shows its Join button.

The gateway keeps each device's bookings (encrypted, as the organisation secret
``webex_bookings:<device>``); when a meeting changes, moves, drops the room or is
cancelled, the device's list is rewritten: ``Bookings.Clear``, then one ``Bookings.Put``
per booking still current (ended ones are dropped). Only the organiser's copy of a
meeting is mirrored. Cisco's licence note on ``Bookings.Put`` is in docs/webex.md.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from hybrid_calendar.errors import GatewayError
from hybrid_calendar_webex.context import context

if TYPE_CHECKING:
    from hybrid_calendar.gateway import Gateway
    from hybrid_calendar.models import Meeting, User
    from hybrid_calendar_webex.client import WebexClient

log = logging.getLogger(__name__)

ROOMS_TTL = timedelta(minutes=10)
"""How long the room-calendar → devices map of an organisation is reused."""


def booking_id(event_id: str) -> str:
    """The booking's ``Id`` for an event (stable, no event text)."""
    return "hc-" + hashlib.sha256(event_id.encode()).hexdigest()[:24]


def _device_secret(device_id: str) -> str:
    return "webex_bookings:" + hashlib.sha256(device_id.encode()).hexdigest()[:32]


def _event_secret(event_id: str) -> str:
    return "webex_booked:" + hashlib.sha256(event_id.encode()).hexdigest()[:32]


def _z(when: datetime) -> str:
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def booking_for(meeting: Meeting, hidden: bool) -> dict[str, Any]:
    """The ``Booking`` object for a meeting."""
    assert meeting.join is not None
    minutes = max(1, int((meeting.end - meeting.start).total_seconds() // 60))
    booking: dict[str, Any] = {
        "Id": booking_id(meeting.event_id), "Title": "Booked" if hidden else meeting.title,
        "Protocol": "SIP", "Time": {"StartTime": _z(meeting.start), "Duration": minutes},
        "Organizer": {"Name": meeting.organizer or ""},
        "Number": meeting.join.dial or meeting.join.url or ""}
    return booking


async def room_devices(gateway: Gateway, client: WebexClient, org_id: str
                       ) -> dict[str, list[str]]:
    """Room calendar address (lower case) → ids of its workspace's devices (cached)."""
    ctx = context(gateway)
    cached = ctx.rooms.get(org_id)
    now = gateway.clock.now()
    if cached is not None and now - cached[0] < ROOMS_TTL:
        return cached[1]
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
    ctx.rooms[org_id] = (now, found)
    return found


async def mirror_meetings(gateway: Gateway, user: User, meetings: Sequence[Meeting],
                          deleted: Sequence[str]) -> None:
    """Bring the devices of the rooms these meetings invite up to date."""
    ctx = context(gateway)
    if not ctx.configured or not ctx.settings["room_bookings"]:
        return
    mine = [m for m in meetings if (m.organizer or user.email).casefold()
            == user.email.casefold()]
    if not mine and not deleted:
        return
    client = ctx.client(gateway, user.org_id)
    try:
        rooms = await room_devices(gateway, client, user.org_id)
        if not rooms:
            return
        hidden = {str(r).lower() for r in ctx.settings.get("hidden_title_rooms") or []}
        changed: dict[str, dict[str, dict[str, Any] | None]] = {}
        store = gateway.store
        for meeting in mine:
            targets: dict[str, bool] = {}
            if meeting.join is not None and not meeting.all_day and \
                    meeting.status != "cancelled":
                for email in meeting.attendees:
                    for device in rooms.get(email.lower(), []):
                        targets[device] = email.lower() in hidden
            before = json.loads(await store.get_org_secret(
                user.org_id, _event_secret(meeting.event_id)) or "[]")
            if not targets and not before:
                continue
            for device in before:
                if device not in targets:
                    changed.setdefault(device, {})[booking_id(meeting.event_id)] = None
            for device, hide in targets.items():
                changed.setdefault(device, {})[booking_id(meeting.event_id)] = \
                    booking_for(meeting, hide)
            await store.put_org_secret(user.org_id, _event_secret(meeting.event_id),
                                       json.dumps(sorted(targets)))
        for event_id in deleted:
            before = json.loads(await store.get_org_secret(
                user.org_id, _event_secret(event_id)) or "[]")
            for device in before:
                changed.setdefault(device, {})[booking_id(event_id)] = None
            if before:
                await store.put_org_secret(user.org_id, _event_secret(event_id), "[]")
        for device, updates in changed.items():
            await _rewrite(gateway, client, user.org_id, device, updates)
    except GatewayError as err:
        log.warning("room-device bookings for user %s not updated: %s", user.id, err)


async def _rewrite(gateway: Gateway, client: WebexClient, org_id: str, device: str,
                   updates: dict[str, dict[str, Any] | None]) -> None:
    """Apply ``updates`` (booking id → booking, or ``None`` to remove) to a device."""
    name = _device_secret(device)
    current: dict[str, dict[str, Any]] = json.loads(
        await gateway.store.get_org_secret(org_id, name) or "{}")
    removed = False
    for key, booking in updates.items():
        if booking is None:
            removed = removed or key in current
            current.pop(key, None)
        else:
            current[key] = booking
    now = gateway.clock.now()
    current = {k: b for k, b in current.items() if _end(b) > now}
    if removed:
        await client.call("POST", "/xapi/command/Bookings.Clear", json={"deviceId": device})
        to_put = list(current.values())
    else:
        to_put = [b for k, b in updates.items() if b is not None and k in current]
    for booking in to_put:
        await client.call("POST", "/xapi/command/Bookings.Put",
                          json={"deviceId": device, "body": {"Booking": booking}})
    await gateway.store.put_org_secret(org_id, name, json.dumps(current))


def _end(booking: dict[str, Any]) -> datetime:
    start = datetime.fromisoformat(str(booking["Time"]["StartTime"]).replace("Z", "+00:00"))
    return start + timedelta(minutes=int(booking["Time"]["Duration"]))
