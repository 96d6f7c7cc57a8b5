"""Invitations: the organizer's event is copied onto attendees' calendars in the domain.

As on Google, each attendee in the domain gets their own copy (same ``id`` and
``iCalUID``) whose ``organizer`` is not ``self``; ``extendedProperties.private`` and
``reminders`` are per copy, everything else follows the organizer's copy. Removing an
attendee or cancelling the event cancels the copies. An attendee changing their own
``responseStatus`` (or deleting their copy, which declines) updates the organizer's copy,
and from there every other copy.

An attendee invited by one of a user's aliases (:meth:`EmulatorState.add_alias`) gets the
copy on that user's calendar; its attendee entry keeps the alias as its ``email`` and is
the one marked ``self`` (as Google does: clients find the owner's own answer by ``self``,
not by comparing addresses).
"""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING, Any

from hybrid_calendar_google_emulator.events import cancel_event, etag_for
from hybrid_calendar_google_emulator.timeutil import format_utc, stamp_to_datetime

if TYPE_CHECKING:
    from hybrid_calendar_google_emulator.calendars import Calendar
    from hybrid_calendar_google_emulator.event_ops import EventOperations

PER_COPY = ("reminders", "colorId")


def organizer_of(event: dict[str, Any]) -> str:
    """The organizer's email (lower case)."""
    return str((event.get("organizer") or {}).get("email", "")).lower()


def _attendee_emails(event: dict[str, Any]) -> set[str]:
    return {str(a.get("email", "")).lower() for a in event.get("attendees", [])}


def _copy_for(event: dict[str, Any], user: str, existing: dict[str, Any] | None
              ) -> dict[str, Any]:
    result = copy.deepcopy(event)
    result["organizer"] = {k: v for k, v in event["organizer"].items() if k != "self"}
    result["creator"] = {k: v for k, v in event.get("creator", {}).items() if k != "self"}
    attendees = []
    for attendee in result.get("attendees", []):
        attendee = {k: v for k, v in attendee.items() if k != "self"}
        if str(attendee.get("email", "")).lower() == user:
            attendee["self"] = True
        attendees.append(attendee)
    result["attendees"] = attendees
    props = dict(result.get("extendedProperties") or {})
    props.pop("private", None)
    own_private = ((existing or {}).get("extendedProperties") or {}).get("private")
    if own_private:
        props["private"] = copy.deepcopy(own_private)
    if props:
        result["extendedProperties"] = props
    else:
        result.pop("extendedProperties", None)
    for key in PER_COPY:
        if existing and key in existing:
            result[key] = copy.deepcopy(existing[key])
        elif key == "reminders":
            result[key] = {"useDefault": True}
    return result


def propagate(state: EventOperations, calendar: Calendar, event: dict[str, Any],
              previous: dict[str, Any] | None, changed: set[str]) -> None:
    """After the organizer's copy changed: update, create or cancel attendees' copies.

    ``changed`` collects the ids of calendars that got a change (for push).
    """
    if organizer_of(event) != calendar.id:
        return
    current = _attendee_emails(event) if event.get("status") != "cancelled" else set()
    before = _attendee_emails(previous) if previous else set()
    for email in sorted(current | before):
        target = state.home_of(email)  # an alias's invitation lands on its user's calendar
        if target is None or target.id == calendar.id:
            continue
        existing = target.events.get(event["id"])
        if email in current:
            replica = _copy_for(event, email, existing)
        elif _invited(state, target.id, current):
            continue  # dropped by one address, still invited by another of the owner's
        elif existing is not None and existing.get("status") != "cancelled":
            replica = cancel_event(existing, state.journal.clock.tick())
        else:
            continue
        target.store(replica, state.journal.next())
        changed.add(target.id)


def _invited(state: EventOperations, calendar_id: str, addresses: set[str]) -> bool:
    return any(state.owns(calendar_id, address) for address in addresses)


def reply(state: EventOperations, calendar: Calendar, event: dict[str, Any],
          changed: set[str]) -> None:
    """After an attendee's copy changed: carry their response to the organizer's copy."""
    organizer = organizer_of(event)
    if organizer == calendar.id or organizer not in state.calendars:
        return
    own = next((a for a in event.get("attendees", [])
                if state.owns(calendar.id, str(a.get("email", "")))), None)
    status = "declined" if event.get("status") == "cancelled" else \
        (own or {}).get("responseStatus")
    if status is None:
        return
    home = state.calendars[organizer]
    original = home.events.get(event["id"])
    if original is None:
        return
    updated = copy.deepcopy(original)
    for attendee in updated.get("attendees", []):
        if state.owns(calendar.id, str(attendee.get("email", ""))):
            if attendee.get("responseStatus") == status:
                return
            attendee["responseStatus"] = status
    stamp = state.journal.clock.tick()
    updated["etag"] = etag_for(stamp)
    updated["updated"] = format_utc(stamp_to_datetime(stamp))
    home.store(updated, state.journal.next())
    changed.add(home.id)
    for email in sorted(_attendee_emails(updated)):
        target = state.home_of(email)
        if target is not None and target.id not in (organizer, calendar.id) \
                and event["id"] in target.events:
            target.store(_copy_for(updated, email, target.events[event["id"]]),
                         state.journal.next())
            changed.add(target.id)
