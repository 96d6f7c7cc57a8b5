"""Google Calendar ``Event`` JSON → :class:`hybrid_calendar.models.CalendarEvent`.

Times become timezone-aware UTC datetimes. All-day events (``{"date": ...}``) start at
midnight in the event's time zone (UTC if it has none) and set ``all_day``. Cancelled
events may carry only ``id`` (plus ``recurringEventId``/``originalStartTime`` for
cancelled instances); they convert to tombstones with ``start``/``end`` of ``None``.
The original JSON is kept in ``raw`` for plugins (never stored in clear by the core).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime, time
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from hybrid_calendar.models import Attendee, CalendarEvent, Conference, ConferenceEntryPoint


@lru_cache(maxsize=256)
def _zone(name: str | None) -> Any:
    if not name:
        return UTC
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return UTC


def parse_time(value: Mapping[str, Any] | None) -> tuple[datetime | None, bool]:
    """Parse an ``EventDateTime``; return ``(utc_datetime, is_all_day)``."""
    if not value:
        return None, False
    stamp = value.get("dateTime")
    if stamp:
        parsed = datetime.fromisoformat(stamp)
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=_zone(value.get("timeZone")))
        return parsed.astimezone(UTC), False
    day = value.get("date")
    if day:
        midnight = datetime.combine(date.fromisoformat(day), time(0),
                                    tzinfo=_zone(value.get("timeZone")))
        return midnight.astimezone(UTC), True
    return None, False


def parse_rfc3339(value: str | None) -> datetime | None:
    """Parse ``updated``-style timestamps (``2020-07-01T13:42:09.092Z``)."""
    if not value:
        return None
    parsed = datetime.fromisoformat(value)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _attendee(data: Mapping[str, Any]) -> Attendee:
    return Attendee(email=str(data.get("email", "")), display_name=data.get("displayName"),
                    response_status=str(data.get("responseStatus", "needsAction")),
                    organizer=bool(data.get("organizer", False)),
                    resource=bool(data.get("resource", False)),
                    optional=bool(data.get("optional", False)))


def _conference(data: Mapping[str, Any] | None) -> Conference | None:
    if not data:
        return None
    points = tuple(
        ConferenceEntryPoint(kind=str(p.get("entryPointType", "")), uri=str(p.get("uri", "")),
                             label=p.get("label"), pin=p.get("pin"),
                             passcode=p.get("passcode") or p.get("password"),
                             meeting_code=p.get("meetingCode") or p.get("accessCode"))
        for p in data.get("entryPoints", ()) if isinstance(p, Mapping))
    solution = data.get("conferenceSolution") or {}
    key = (solution.get("key") or {}).get("type") or (
        ((data.get("createRequest") or {}).get("conferenceSolutionKey") or {}).get("type"))
    return Conference(solution=key, conference_id=data.get("conferenceId"),
                      entry_points=points, name=solution.get("name"))


def to_event(data: Mapping[str, Any], calendar_id: str) -> CalendarEvent:
    """Convert one ``Event`` resource as returned by ``events.list``/``get``/``patch``."""
    start, all_day = parse_time(data.get("start"))
    end, _ = parse_time(data.get("end"))
    original, _ = parse_time(data.get("originalStartTime"))
    organizer = (data.get("organizer") or {}).get("email")
    extended = data.get("extendedProperties") or {}
    return CalendarEvent(
        id=str(data["id"]),
        calendar_id=calendar_id,
        status=str(data.get("status", "confirmed")),
        start=start,
        end=end,
        summary=str(data.get("summary", "")),
        description=str(data.get("description", "")),
        location=str(data.get("location", "")),
        all_day=all_day,
        organizer=organizer,
        attendees=tuple(_attendee(a) for a in data.get("attendees", ()) if isinstance(a, Mapping)),
        conference=_conference(data.get("conferenceData")),
        recurring_event_id=data.get("recurringEventId"),
        original_start=original,
        recurrence=tuple(data.get("recurrence", ())),
        etag=data.get("etag"),
        sequence=int(data.get("sequence", 0)),
        updated=parse_rfc3339(data.get("updated")),
        private_properties=dict(extended.get("private") or {}),
        html_link=data.get("htmlLink"),
        time_zone=(data.get("start") or {}).get("timeZone"),
        raw=data,
    )
