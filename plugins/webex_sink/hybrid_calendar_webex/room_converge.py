"""Bring each device of a room to the bookings its room should show.

A device's record (:mod:`.room_records`) is what was last written to it with success.
When it differs from the room's record (a device new to the gateway has none), the
device is rewritten through cloud xAPI: ``Bookings.Clear`` then one ``Bookings.Put`` per
current booking when a booking must go, else one ``Put`` per booking added or changed
(a ``Put`` replaces the booking with the same ``Id``). Bookings that ended are neither
put nor a reason to clear. A device that matches is not called at all.

The device's record is saved with what succeeded, also when a call failed: a failed
device is tried again at the next convergence. A failure is logged once per device (a
warning, until the device converges again), and never stops the other devices.

Two processes may converge one device at once (each booked the room for a different
organiser, or one books while the other's periodic convergence runs), and their calls
may interleave: one's ``Bookings.Clear`` can land after the other's ``Put``, so the
device lacks a booking that the later record write claims it shows, and no convergence
would ever put it again. The device's record is therefore written only if no other
process wrote it since this convergence read it (an atomic update,
:func:`.room_records.write_device`); otherwise it is marked ``must_clear`` and the
device converges again at once (up to :data:`RACE_ATTEMPTS` times) to the room's record
as it is then: ``Bookings.Clear`` and every booking put again.

A room's record keeps each booking with its meeting's title. The devices of a room in
``webex.hidden_title_rooms`` are given each booking with ``Title`` "Booked" instead
(:func:`as_shown`), at every convergence: a room added to the list (the configuration is
read at start, so a restart) shows "Booked" from its next convergence, which a starting
gateway runs at once, without any meeting changing; a room taken off it gets the titles
back the same way. A private meeting's booking is recorded without title and organiser
(:func:`.bookings.booking_for`), so no room's devices ever get them, hidden or not.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Iterable
from typing import TYPE_CHECKING, Literal

from hybrid_calendar.errors import GatewayError
from hybrid_calendar_webex import room_records as records
from hybrid_calendar_webex.context import context
from hybrid_calendar_webex.room_records import Bookings

if TYPE_CHECKING:
    from hybrid_calendar.gateway import Gateway
    from hybrid_calendar_webex.client import WebexClient

log = logging.getLogger(__name__)

Outcome = Literal["converged", "failed", "raced"]
"""How a device's convergence ended (:func:`converge_device`)."""
CONVERGED: Outcome = "converged"
FAILED: Outcome = "failed"
RACED: Outcome = "raced"
RACE_ATTEMPTS = 3
"""Most convergences of one device in a row while other processes write its record."""
HIDDEN_TITLE = "Booked"
"""The ``Title`` of every booking on the devices of a room in
``webex.hidden_title_rooms``, and of a private meeting's booking in every room."""


def hidden_rooms(gateway: Gateway) -> set[str]:
    """The rooms (lower-case addresses) whose devices show :data:`HIDDEN_TITLE` instead
    of the meeting's title (``webex.hidden_title_rooms``)."""
    return {str(r).lower() for r in context(gateway).settings.get("hidden_title_rooms")
            or []}


def as_shown(bookings: Bookings, hidden: bool) -> Bookings:
    """``bookings`` as a room's devices show them: each ``Title`` replaced by
    :data:`HIDDEN_TITLE` when the room is ``hidden``, else as recorded."""
    if not hidden:
        return bookings
    return {key: {**booking, "Title": HIDDEN_TITLE} for key, booking in bookings.items()}


async def converge_rooms(gateway: Gateway, client: WebexClient, org_id: str,
                         room_map: dict[str, list[str]], rooms: Iterable[str]) -> None:
    """Converge every device of ``rooms`` (the caller holds the organisation's room
    lock). A room whose record is empty and whose devices all show it leaves the
    periodic convergence."""
    store = gateway.store
    now = gateway.clock.now()
    hidden = hidden_rooms(gateway)
    settled: set[str] = set()
    for room in sorted(set(rooms)):
        devices = room_map.get(room, [])
        recorded = await records.read_room(store, org_id, room, devices)
        wanted = records.current_only(recorded, now)
        if wanted != recorded:  # prune what ended, keeping what another process adds
            wanted = await records.update_room(
                store, org_id, room, devices,
                functools.partial(records.current_only, now=now))
        wanted = as_shown(wanted, room in hidden)
        converged = True
        for device in devices:
            outcome = await converge_device(gateway, client, org_id, device, wanted)
            for _ in range(RACE_ATTEMPTS - 1):
                if outcome != RACED:
                    break
                again = as_shown(records.current_only(
                    await records.read_room(store, org_id, room, devices), now),
                    room in hidden)
                outcome = await converge_device(gateway, client, org_id, device, again)
            converged = outcome == CONVERGED and converged
        if not wanted and converged:
            settled.add(room)
    if settled:
        # Another process may have booked a settled room meanwhile: it records the
        # booking, then adds the room to the index. Taking the room out of the index
        # first and looking at its record afterwards, one of the two sees the other.
        for room in sorted(await records.remove_from_index(store, org_id, settled)):
            if await records.read_room(store, org_id, room, room_map.get(room, [])):
                await records.add_to_index(store, org_id, [room])


async def converge_device(gateway: Gateway, client: WebexClient, org_id: str,
                          device: str, wanted: Bookings) -> Outcome:
    """Bring one device to ``wanted``: :data:`CONVERGED` when it shows them afterwards,
    :data:`FAILED` when a call failed, :data:`RACED` when another process wrote the
    device's record meanwhile (see the module)."""
    store = gateway.store
    written = await records.read_device(store, org_id, device)
    shown, must_clear = written if written is not None else ({}, False)
    shown = records.current_only(shown, gateway.clock.now())
    clear = must_clear or any(key not in wanted for key in shown)
    if not clear and shown == wanted and written is not None:
        return CONVERGED
    to_put = list(wanted.values()) if clear else [
        b for key, b in wanted.items() if shown.get(key) != b]
    if not clear and not to_put:
        return CONVERGED  # a device new to the gateway, in a room with nothing booked
    done, owed = dict(shown), must_clear
    outcome = CONVERGED
    try:
        if clear:
            owed = True  # until Webex answers, the device may or may not be cleared
            await client.call("POST", "/xapi/command/Bookings.Clear",
                              json={"deviceId": device})
            done, owed = {}, False
        for booking in to_put:
            await client.call("POST", "/xapi/command/Bookings.Put",
                              json={"deviceId": device, "body": {"Booking": booking}})
            done[str(booking["Id"])] = booking
    except GatewayError as err:
        _failed(gateway, device, err)
        outcome = FAILED
    finally:
        changed = written is None or done != written[0] or owed != written[1]
        if changed and not await records.write_device(store, org_id, device, written,
                                                      done, owed):
            outcome = RACED
    if outcome == CONVERGED:
        _converged(gateway, device)
    return outcome


def _failed(gateway: Gateway, device: str, err: GatewayError) -> None:
    failing = context(gateway).failing_devices
    if device in failing:
        log.debug("room device %s still not up to date: %s", device, err)
        return
    failing.add(device)
    log.warning("room device %s not brought up to date (tried again at the next "
                "convergence): %s", device, err)


def _converged(gateway: Gateway, device: str) -> None:
    failing = context(gateway).failing_devices
    if device in failing:
        failing.discard(device)
        log.info("room device %s is up to date again", device)
