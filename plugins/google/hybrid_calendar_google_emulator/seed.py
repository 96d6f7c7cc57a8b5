"""Bulk seeding for benchmarks: N users × M events, built directly (no push, no HTTP)."""

from __future__ import annotations

import datetime as dt
import random
import secrets
from typing import TYPE_CHECKING, Any

from hybrid_calendar_google_emulator.events import etag_for
from hybrid_calendar_google_emulator.timeutil import format_local, format_utc, stamp_to_datetime

if TYPE_CHECKING:
    from hybrid_calendar_google_emulator.state import EmulatorState

LOCATIONS = ("@webex", "Room 1", "https://example.webex.com/meet/someone", "", "@meet")


def seed(state: EmulatorState, users: list[str], events_per_user: int, *,
         start: Any = None, days: int = 30) -> int:
    """Create ``users`` (if missing) with ``events_per_user`` timed events each.

    Events are spread over ``days`` days from ``start`` (a datetime/date; default: today
    00:00 UTC), on working hours, 30-60 minutes long, some with invitees from ``users``.
    The caller holds the state lock. Returns the number of events created.
    """
    if start is None:
        base = dt.datetime.now(dt.UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    elif isinstance(start, dt.datetime):
        base = start if start.tzinfo else start.replace(tzinfo=dt.UTC)
    else:
        base = dt.datetime(start.year, start.month, start.day, tzinfo=dt.UTC)
    rng = random.Random(len(users) * 7919 + events_per_user)
    created = 0
    for email in users:
        user = state.add_user(email)
        calendar = state.calendars[user.email]
        for index in range(events_per_user):
            stamp = state.journal.clock.tick()
            when = base + dt.timedelta(days=rng.randrange(max(days, 1)),
                                       hours=8 + rng.randrange(9),
                                       minutes=30 * rng.randrange(2))
            end = when + dt.timedelta(minutes=30 * (1 + rng.randrange(2)))
            event_id = secrets.token_hex(13)  # [0-9a-f] is inside Google's id alphabet
            now = format_utc(stamp_to_datetime(stamp))
            attendees = [{"email": user.email, "organizer": True, "self": True,
                          "responseStatus": "accepted"}]
            if len(users) > 1 and index % 2 == 0:
                other = users[rng.randrange(len(users))].lower()
                if other != user.email:
                    attendees.append({"email": other, "responseStatus": "needsAction"})
            event = {
                "kind": "calendar#event", "etag": etag_for(stamp), "id": event_id,
                "status": "confirmed",
                "htmlLink": f"https://www.google.com/calendar/event?eid={event_id}",
                "created": now, "updated": now, "summary": f"Meeting {index}",
                "location": LOCATIONS[index % len(LOCATIONS)],
                "creator": {"email": user.email, "self": True},
                "organizer": {"email": user.email, "self": True},
                "start": {"dateTime": format_local(when), "timeZone": "UTC"},
                "end": {"dateTime": format_local(end), "timeZone": "UTC"},
                "iCalUID": f"{event_id}@google.com", "sequence": 0,
                "attendees": attendees, "reminders": {"useDefault": True},
                "eventType": "default",
            }
            calendar.store(event, state.journal.next())
            created += 1
    return created
