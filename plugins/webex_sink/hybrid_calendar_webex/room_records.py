"""What the gateway records about room bookings, as encrypted organisation secrets.

=====================================  ================================================
secret                                 value (JSON)
=====================================  ================================================
``webex_room:<hash of room address>``  the bookings the room's devices should show:
                                       booking id → ``Booking``
``webex_rooms``                        the room addresses that have such a record and
                                       are converged periodically
``webex_booked_rooms:<hash of event>`` the room addresses an event's booking is in,
                                       and whose booking it is: ``{"rooms": [...],
                                       "user": user id}`` (earlier: the list alone)
``webex_bookings:<hash of device>``    what was last written to the device with
                                       success: ``{"bookings": {id → Booking},
                                       "must_clear": bool}`` (``must_clear``: a
                                       ``Bookings.Clear`` is owed: its outcome is
                                       unknown, or two processes wrote the device at
                                       once)
``webex_booked:<hash of event>``       (before room records) the device ids an event's
                                       booking was put on; read so that such a booking
                                       is still removed, then emptied
=====================================  ================================================

A missing record reads as empty, except a room's: a room booked before room records
existed starts from what its devices were given (their device records), so no booking
is lost by the upgrade and no migration step is needed.

Several gateway processes may share the store, and two of them may change one room's
record (two organisers' meetings booking the room) or the room index at the same
moment. Those records are therefore only changed through
:meth:`~hybrid_calendar.store.base.Store.update_org_secret`, with a change function that
applies a delta (bookings put or removed, ended bookings pruned, rooms added to or
removed from the index) to whatever is stored when the change runs: no process's change
is lost, whichever writes last. A device's record is written after the device calls,
only if no other process wrote it since it was read, else marked ``must_clear``
(:func:`write_device`). An event's record of rooms is written as a whole: only the
organiser's sync writes it (the user it names; an attendee's copy of the event has the
same event id, and an attendee's sync never writes it), and a user's syncs run one at a
time across processes.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from hybrid_calendar.store.base import Store

Bookings = dict[str, dict[str, Any]]
"""Booking id → the ``Booking`` object put on devices."""

ROOM_INDEX = "webex_rooms"


def _digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()[:32]


def room_secret(room: str) -> str:
    """The secret holding a room's bookings."""
    return "webex_room:" + _digest(room.lower())


def event_rooms_secret(event_id: str) -> str:
    """The secret holding the rooms an event's booking is in."""
    return "webex_booked_rooms:" + _digest(event_id)


def legacy_event_secret(event_id: str) -> str:
    """The secret in which earlier versions kept the devices an event was booked on."""
    return "webex_booked:" + _digest(event_id)


def device_secret(device_id: str) -> str:
    """The secret holding what was last written to a device."""
    return "webex_bookings:" + _digest(device_id)


def booking_end(booking: dict[str, Any]) -> datetime:
    """When a booking ends (``Time.StartTime`` + ``Time.Duration`` minutes)."""
    start = datetime.fromisoformat(str(booking["Time"]["StartTime"]).replace("Z", "+00:00"))
    return start.astimezone(UTC) + timedelta(minutes=int(booking["Time"]["Duration"]))


def current_only(bookings: Bookings, now: datetime) -> Bookings:
    """``bookings`` without those that ended by ``now``."""
    return {key: b for key, b in bookings.items() if booking_end(b) > now}


async def _read(store: Store, org_id: str, name: str) -> Any:
    raw = await store.get_org_secret(org_id, name)
    return None if raw is None else json.loads(raw)


async def _write(store: Store, org_id: str, name: str, value: object) -> None:
    await store.put_org_secret(org_id, name, json.dumps(value, sort_keys=True))


def _device(value: Any) -> tuple[Bookings, bool] | None:
    if value is None:
        return None
    if isinstance(value.get("bookings"), dict):
        return dict(value["bookings"]), bool(value.get("must_clear"))
    return dict(value), False  # a record of an earlier version: the bookings alone


async def read_device(store: Store, org_id: str, device_id: str
                      ) -> tuple[Bookings, bool] | None:
    """What was last written to a device, and whether a ``Bookings.Clear`` is owed;
    ``None`` when nothing ever was (a device new to the gateway)."""
    return _device(await _read(store, org_id, device_secret(device_id)))


async def write_device(store: Store, org_id: str, device_id: str,
                       read: tuple[Bookings, bool] | None, bookings: Bookings,
                       must_clear: bool = False) -> bool:
    """Record what a device shows after a convergence that began by reading ``read``
    (:func:`read_device`); False when another process wrote the record since.

    The write is an atomic update. When the record is no longer ``read``, another
    process converged the device meanwhile and its calls may have landed between this
    one's (its ``Put`` before this one's ``Clear``, say): nobody knows what the device
    shows, so the record says a ``Bookings.Clear`` is owed, and the device's next
    convergence clears it and puts every booking again."""
    raced = False

    def step(raw: str | None) -> str:
        nonlocal raced
        raced = _device(None if raw is None else json.loads(raw)) != read
        return json.dumps({"bookings": bookings, "must_clear": must_clear or raced},
                          sort_keys=True)

    await store.update_org_secret(org_id, device_secret(device_id), step)
    return not raced


async def read_room(store: Store, org_id: str, room: str, devices: Iterable[str]
                    ) -> Bookings:
    """The bookings a room's devices should show (see the module for a missing record)."""
    value = await _read(store, org_id, room_secret(room))
    if value is not None:
        return dict(value)
    return await _seed(store, org_id, devices)


async def _seed(store: Store, org_id: str, devices: Iterable[str]) -> Bookings:
    """What a room's devices were given (a room without a record starts from it)."""
    seeded: Bookings = {}
    for device in devices:
        written = await read_device(store, org_id, device)
        if written is not None:
            seeded.update(written[0])
    return seeded


async def update_room(store: Store, org_id: str, room: str, devices: Iterable[str],
                      change: Callable[[Bookings], Bookings]) -> Bookings:
    """Apply ``change`` (bookings → new bookings; quick and pure, it may run more than
    once) to a room's record atomically (:meth:`Store.update_org_secret`), and return the
    room's bookings afterwards. Nothing is written when the change leaves them as they
    were. A room without a record starts from its devices' records, read before the
    update (only a room booked before room records existed has none)."""
    name = room_secret(room)
    seed: Bookings | None = None

    def step(raw: str | None) -> str | None:
        if raw is None and seed is None:
            return None  # no record: read the devices' records, then try again
        before: Bookings = dict(json.loads(raw)) if raw is not None else dict(seed or {})
        after = change(dict(before))
        return None if after == before else json.dumps(after, sort_keys=True)

    stored = await store.update_org_secret(org_id, name, step)
    if stored is None:
        seed = await _seed(store, org_id, devices)
        stored = await store.update_org_secret(org_id, name, step)
    return dict(json.loads(stored)) if stored is not None else dict(seed or {})


async def read_index(store: Store, org_id: str) -> set[str]:
    """The rooms converged periodically."""
    return set(await _read(store, org_id, ROOM_INDEX) or [])


async def add_to_index(store: Store, org_id: str, rooms: Iterable[str]) -> None:
    """Add ``rooms`` to the rooms converged periodically (atomically: rooms another
    process adds or removes meanwhile are kept or removed)."""
    added = set(rooms)

    def step(raw: str | None) -> str | None:
        index = set(json.loads(raw) if raw is not None else [])
        return None if added <= index else json.dumps(sorted(index | added))

    await store.update_org_secret(org_id, ROOM_INDEX, step)


async def remove_from_index(store: Store, org_id: str, rooms: Iterable[str]) -> set[str]:
    """Remove ``rooms`` from the rooms converged periodically (atomically); return those
    that were in it."""
    removed = set(rooms)
    found: set[str] = set()

    def step(raw: str | None) -> str | None:
        index = set(json.loads(raw) if raw is not None else [])
        found.clear()
        found.update(index & removed)
        return json.dumps(sorted(index - removed)) if found else None

    await store.update_org_secret(org_id, ROOM_INDEX, step)
    return found


@dataclass(frozen=True, slots=True)
class EventRooms:
    """What is recorded about an event's booking (:func:`read_event_rooms`)."""

    rooms: frozenset[str]
    """The rooms the booking is in."""
    user: str | None
    """The id of the user whose sync booked it (the organiser); ``None`` when an
    earlier version wrote the record (a plain list of rooms) or there is none."""
    legacy_devices: tuple[str, ...] = ()
    """The device ids an earlier version recorded for the event (empty once handled)."""


async def read_event_rooms(store: Store, org_id: str, event_id: str) -> EventRooms:
    """The rooms an event's booking is in and whose booking it is, or the device ids an
    earlier version recorded for it. The earlier record is read only for an event
    without a record of rooms: writing that record empties the earlier one, so a
    mirrored sync reads one secret per event it has booked."""
    value = await _read(store, org_id, event_rooms_secret(event_id))
    if isinstance(value, dict):
        user = value.get("user")
        return EventRooms(frozenset(value.get("rooms") or []),
                          str(user) if user is not None else None)
    if value is not None:  # an earlier version's record: the rooms alone
        return EventRooms(frozenset(value), None)
    legacy = await _read(store, org_id, legacy_event_secret(event_id))
    return EventRooms(frozenset(), None, tuple(str(d) for d in legacy or []))


async def write_event_rooms(store: Store, org_id: str, event_id: str, rooms: Iterable[str],
                            user_id: str, *, legacy_done: bool) -> None:
    """Record the rooms an event's booking is in and the user whose booking it is (and
    empty the earlier record of devices)."""
    await _write(store, org_id, event_rooms_secret(event_id),
                 {"rooms": sorted(rooms), "user": user_id})
    if legacy_done:
        await _write(store, org_id, legacy_event_secret(event_id), [])
