"""Google Calendar event resources (JSON) to core :class:`CalendarEvent` objects.

Pure functions, no I/O: the ``parse-join`` command uses them, and the Google provider
plugin may reuse :func:`event_from_google` for ``events.list`` items. Field names follow
the Calendar API v3 ``Event`` resource; missing fields get the model's defaults and
fields of the wrong type are ignored rather than trusted.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime
from typing import Any

from hybrid_calendar.models import Attendee, CalendarEvent, Conference, ConferenceEntryPoint


class EventFormatError(ValueError):
    """The input is not a Google Calendar event resource (not an object, no ``id``)."""


def event_from_google(resource: Any, calendar_id: str = "primary") -> CalendarEvent:
    """Convert one ``Event`` resource; raises :class:`EventFormatError` if it is not one."""
    if not isinstance(resource, Mapping):
        raise EventFormatError("an event must be a JSON object")
    event_id = resource.get("id")
    if not isinstance(event_id, str) or not event_id:
        raise EventFormatError("an event needs a string 'id'")
    start, all_day = _when(resource.get("start"))
    end, _ = _when(resource.get("end"))
    original, _ = _when(resource.get("originalStartTime"))
    extended = _mapping(resource.get("extendedProperties"))
    private = {str(k): str(v) for k, v in _mapping(extended.get("private")).items()}
    organizer = _mapping(resource.get("organizer")).get("email")
    start_zone = _mapping(resource.get("start")).get("timeZone")
    return CalendarEvent(
        id=event_id,
        calendar_id=calendar_id,
        status=_str(resource.get("status")) or "confirmed",
        start=start,
        end=end,
        summary=_str(resource.get("summary")),
        description=_str(resource.get("description")),
        location=_str(resource.get("location")),
        all_day=all_day,
        organizer=organizer if isinstance(organizer, str) else None,
        attendees=tuple(_attendee(a) for a in _list(resource.get("attendees"))
                        if isinstance(a, Mapping) and isinstance(a.get("email"), str)),
        conference=conference_from_google(resource),
        recurring_event_id=_str(resource.get("recurringEventId")) or None,
        original_start=original,
        recurrence=tuple(r for r in _list(resource.get("recurrence")) if isinstance(r, str)),
        etag=_str(resource.get("etag")) or None,
        sequence=_int(resource.get("sequence")),
        updated=_datetime(resource.get("updated")),
        private_properties=private,
        html_link=_str(resource.get("htmlLink")) or None,
        time_zone=start_zone if isinstance(start_zone, str) else None,
        raw=resource,
    )


def conference_from_google(resource: Mapping[str, Any]) -> Conference | None:
    """``conferenceData`` (or a bare ``hangoutLink``) as a :class:`Conference`."""
    data = _mapping(resource.get("conferenceData"))
    entries = []
    for entry in _list(data.get("entryPoints")):
        if not isinstance(entry, Mapping) or not isinstance(entry.get("uri"), str):
            continue
        entries.append(ConferenceEntryPoint(
            kind=_str(entry.get("entryPointType")) or "video",
            uri=entry["uri"],
            label=_str(entry.get("label")) or None,
            pin=_str(entry.get("pin")) or None,
            passcode=(_str(entry.get("passcode")) or _str(entry.get("password"))
                      or _str(entry.get("accessCode")) or None),
            meeting_code=_str(entry.get("meetingCode")) or None,
        ))
    solution = _mapping(data.get("conferenceSolution"))
    key = _str(_mapping(solution.get("key")).get("type")) or None
    hangout = resource.get("hangoutLink")
    if not entries and isinstance(hangout, str) and hangout:
        entries.append(ConferenceEntryPoint(kind="video", uri=hangout))
        key = key or "hangoutsMeet"
    if not entries:
        return None
    return Conference(solution=key, conference_id=_str(data.get("conferenceId")) or None,
                      entry_points=tuple(entries), name=_str(solution.get("name")) or None)


def _attendee(item: Mapping[str, Any]) -> Attendee:
    return Attendee(email=item["email"], display_name=_str(item.get("displayName")) or None,
                    response_status=_str(item.get("responseStatus")) or "needsAction",
                    organizer=item.get("organizer") is True,
                    resource=item.get("resource") is True,
                    optional=item.get("optional") is True)


def _when(value: Any) -> tuple[datetime | None, bool]:
    when = _mapping(value)
    if isinstance(when.get("dateTime"), str):
        return _datetime(when["dateTime"]), False
    if isinstance(when.get("date"), str):
        try:
            day = date.fromisoformat(when["date"])
        except ValueError:
            return None, True
        return datetime(day.year, day.month, day.day, tzinfo=UTC), True
    return None, False


def _datetime(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _str(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _int(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0
