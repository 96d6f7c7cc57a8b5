"""A small deterministic stand-in for Google's quickAdd natural-language parser.

Understands a date (``today``, ``tomorrow``, a weekday name, ``YYYY-MM-DD``), a time
(``noon``, ``3pm``, ``3:30pm``, ``15:00``, optionally after ``at``), ``for N minutes/hours``
and ``at <place>`` after the time. The rest becomes the summary. Without a time the event
is all-day.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from hybrid_calendar_google_emulator.timeutil import now_utc, zone

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_TIME = re.compile(
    r"\b(?:at\s+)?(noon|midnight|(\d{1,2})(?::(\d{2}))?\s*(am|pm)|(\d{1,2}):(\d{2}))\b",
    re.IGNORECASE)
_DURATION = re.compile(r"\bfor\s+(\d+)\s*(minutes?|mins?|hours?|h)\b", re.IGNORECASE)


def parse_quick_add(text: str, tz_name: str) -> dict[str, Any]:
    """An event body for ``text`` in time zone ``tz_name``."""
    tz = zone(tz_name)
    today = now_utc().astimezone(tz).date()
    rest = text
    day = today
    match = re.search(r"\b(\d{4}-\d{2}-\d{2})\b", rest)
    if match:
        day = dt.date.fromisoformat(match.group(1))
        rest = rest.replace(match.group(0), " ")
    elif re.search(r"\btomorrow\b", rest, re.IGNORECASE):
        day = today + dt.timedelta(days=1)
        rest = re.sub(r"\btomorrow\b", " ", rest, flags=re.IGNORECASE)
    elif re.search(r"\btoday\b", rest, re.IGNORECASE):
        rest = re.sub(r"\btoday\b", " ", rest, flags=re.IGNORECASE)
    else:
        for index, name in enumerate(WEEKDAYS):
            found = re.search(rf"\b(?:on\s+)?{name}\b", rest, re.IGNORECASE)
            if found:
                day = today + dt.timedelta(days=(index - today.weekday()) % 7 or 7)
                rest = rest.replace(found.group(0), " ")
                break
    minutes = 60
    duration = _DURATION.search(rest)
    if duration:
        amount = int(duration.group(1))
        minutes = amount * 60 if duration.group(2).lower().startswith("h") else amount
        rest = rest.replace(duration.group(0), " ")
    body: dict[str, Any] = {}
    clock = _TIME.search(rest)
    if clock:
        word, hour12, minute12, ampm, hour24, minute24 = clock.groups()
        if word.lower() == "noon":
            hour, minute = 12, 0
        elif word.lower() == "midnight":
            hour, minute = 0, 0
        elif ampm:
            hour, minute = int(hour12) % 12 + (12 if ampm.lower() == "pm" else 0), \
                int(minute12 or 0)
        else:
            hour, minute = int(hour24), int(minute24)
        start = dt.datetime.combine(day, dt.time(hour % 24, minute % 60), tzinfo=tz)
        end = start + dt.timedelta(minutes=minutes)
        after = rest[clock.end():]
        rest = rest[:clock.start()]
        place = re.match(r"\s*(?:at|in)\s+(.+)$", after, re.IGNORECASE)
        if place:
            body["location"] = place.group(1).strip()
        else:
            rest += " " + after
        body["start"] = {"dateTime": start.isoformat(), "timeZone": tz_name}
        body["end"] = {"dateTime": end.isoformat(), "timeZone": tz_name}
    else:
        body["start"] = {"date": day.isoformat()}
        body["end"] = {"date": (day + dt.timedelta(days=1)).isoformat()}
    summary = re.sub(r"\s+", " ", rest).strip(" ,") or text.strip()
    body["summary"] = summary
    return body
