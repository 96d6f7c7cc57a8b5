"""Looking up one event by id, including generated instances of recurring series."""

from __future__ import annotations

import datetime as dt
from typing import Any

from hybrid_calendar_google_emulator.calendars import Calendar
from hybrid_calendar_google_emulator.events import render_instance
from hybrid_calendar_google_emulator.recurrence import instance_id, occurrences, split_instance_id
from hybrid_calendar_google_emulator.timeutil import event_time, zone


def find_event(calendar: Calendar, event_id: str, tz: str) -> dict[str, Any] | None:
    """A stored event, or the generated instance for an instance id of a stored master.

    :param tz: the calendar's zone (for all-day series and zone-less times).
    """
    stored = calendar.events.get(event_id)
    if stored is not None:
        return stored
    parts = split_instance_id(event_id)
    if parts is None:
        return None
    master = calendar.events.get(parts[0])
    if master is None or not master.get("recurrence"):
        return None
    series_tz = master["start"].get("timeZone") or tz
    stamp = parts[1]
    try:
        if "T" in stamp:
            after = dt.datetime.strptime(stamp, "%Y%m%dT%H%M%SZ").replace(tzinfo=dt.UTC)
        else:
            after = dt.datetime.strptime(stamp, "%Y%m%d").replace(tzinfo=zone(series_tz))
    except ValueError:
        return None
    start = event_time(master["start"], tz, "start")
    for original in occurrences(master["recurrence"], start, series_tz, after=after, limit=1):
        if instance_id(master["id"], original) == event_id:
            instance = render_instance(master, original, tz)
            if master.get("status") == "cancelled":
                instance["status"] = "cancelled"
            return instance
    return None
