"""The straightforward ``event_from_google`` as it stood before the flat rewrite (commit
018dc3c), kept as the reference the differential test holds the fast version equal to. It is never
edited: a deliberate change of conversion updates it in the same commit, with the reason.
(This copy and ``tests/join_info/reference`` are oracles for the speed work of issue 14,
still open; once it is closed they can give way to recorded expected results.)

Conference conversion is here too: :func:`conference_from_google` as it stood before its
own flat rewrite (issue 14, 2026-12-01).

Changed deliberately since: ``private`` from ``visibility`` (a private event's title never
reaches a room's public panel, 2026-12-01).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, date, datetime, tzinfo
from functools import lru_cache
from types import MappingProxyType
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from hybrid_calendar.models import Attendee, CalendarEvent, Conference, ConferenceEntryPoint
from hybrid_calendar_google.event_json import (
    ENTRY_POINT_LIMITS,
    MAX_CONFERENCE_ID,
    PRIVATE_VISIBILITY,
    EventFormatError,
)


def reference_event_from_google(resource: Any, calendar_id: str = "primary") -> CalendarEvent:
    """The reference conversion of one ``Event`` resource."""
    if type(resource) is not dict:
        if not isinstance(resource, Mapping):
            raise EventFormatError("an event must be a JSON object")
        resource = dict(resource)
    get = resource.get
    event_id = get("id")
    if type(event_id) is not str or not event_id:
        raise EventFormatError("an event needs a string 'id'")
    start_data = _mapping(get("start"))
    start, all_day = _when(start_data)
    end, _ = _when(get("end"))
    original = get("originalStartTime")
    original_start = _when(original)[0] if original is not None else None
    extended = get("extendedProperties")
    private: dict[str, str] = {}
    if extended:
        private = {str(k): str(v) for k, v in _mapping(_mapping(extended).get("private")).items()}
    organizer = _mapping(get("organizer")).get("email")
    start_zone = start_data.get("timeZone")
    attendees = get("attendees")
    recurrence = get("recurrence")
    sequence = get("sequence")
    return CalendarEvent(
        id=event_id,
        calendar_id=calendar_id,
        status=_str(get("status")) or "confirmed",
        start=start,
        end=end,
        summary=_str(get("summary")),
        description=_str(get("description")),
        location=_str(get("location")),
        all_day=all_day,
        organizer=organizer if type(organizer) is str else None,
        attendees=tuple(_attendee(a) for a in attendees
                        if (type(a) is dict or isinstance(a, Mapping))
                        and type(a.get("email")) is str
                        ) if type(attendees) is list else (),
        conference=(conference_from_google(resource)
                    if "conferenceData" in resource or "hangoutLink" in resource else None),
        recurring_event_id=_str(get("recurringEventId")) or None,
        original_start=original_start,
        recurrence=tuple(r for r in recurrence if type(r) is str
                         ) if type(recurrence) is list else (),
        etag=_str(get("etag")) or None,
        sequence=sequence if type(sequence) is int else 0,
        updated=_datetime(get("updated")),
        private_properties=private,
        html_link=_str(get("htmlLink")) or None,
        time_zone=start_zone if type(start_zone) is str else None,
        private=_str(get("visibility")) in PRIVATE_VISIBILITY,
        raw=resource,
    )


def _attendee(item: Mapping[str, Any]) -> Attendee:
    return Attendee(email=item["email"], display_name=_str(item.get("displayName")) or None,
                    response_status=_str(item.get("responseStatus")) or "needsAction",
                    organizer=item.get("organizer") is True,
                    resource=item.get("resource") is True,
                    optional=item.get("optional") is True,
                    calendar_owner=item.get("self") is True)


def _when(value: Any) -> tuple[datetime | None, bool]:
    when = _mapping(value)
    moment = when.get("dateTime")
    if type(moment) is str:
        return _datetime(moment, when.get("timeZone")), False
    if type(when.get("date")) is str:
        try:
            day = date.fromisoformat(when["date"])
        except ValueError:
            return None, True
        return datetime(day.year, day.month, day.day, tzinfo=UTC), True
    return None, False


def _datetime(value: Any, zone: Any = None) -> datetime | None:
    """An RFC 3339 value; one without offset is read in ``zone`` (the ``timeZone`` field
    next to it, as the API does for requests), else in UTC."""
    if type(value) is not str or not value:
        return None
    try:
        parsed = datetime.fromisoformat(value)  # Python 3.11 accepts "Z"
    except ValueError:
        return None
    if parsed.tzinfo is not None:
        return parsed
    return parsed.replace(tzinfo=_zone(zone) if type(zone) is str else UTC)


@lru_cache(maxsize=64)
def _zone(name: str) -> tzinfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return UTC


_EMPTY: Mapping[str, Any] = MappingProxyType({})


def _mapping(value: Any) -> Mapping[str, Any]:
    if type(value) is dict:
        return value
    return value if isinstance(value, Mapping) else _EMPTY


def _str(value: Any) -> str:
    return value if type(value) is str else ""


def conference_from_google(resource: Mapping[str, Any]) -> Conference | None:
    """``conferenceData`` (or a bare ``hangoutLink``) as a :class:`Conference`."""
    data = _mapping(resource.get("conferenceData"))
    entries = []
    for entry in _list(data.get("entryPoints")):
        if not isinstance(entry, Mapping) or not isinstance(entry.get("uri"), str):
            continue
        field = _entry_field(entry)
        entries.append(ConferenceEntryPoint(
            kind=_str(entry.get("entryPointType"))[:32] or "video",
            uri=field("uri"),
            label=field("label") or None,
            pin=field("pin") or None,
            passcode=field("passcode") or field("password") or field("accessCode") or None,
            meeting_code=field("meetingCode") or None,
        ))
    solution = _mapping(data.get("conferenceSolution"))
    key = _str(_mapping(solution.get("key")).get("type")) or None
    hangout = resource.get("hangoutLink")
    if not entries and isinstance(hangout, str) and hangout:
        entries.append(ConferenceEntryPoint(kind="video",
                                            uri=hangout[:ENTRY_POINT_LIMITS["uri"]]))
        key = key or "hangoutsMeet"
    if not entries:
        return None
    return Conference(solution=key,
                      conference_id=_str(data.get("conferenceId"))[:MAX_CONFERENCE_ID] or None,
                      entry_points=tuple(entries), name=_str(solution.get("name")) or None)


def _entry_field(entry: Mapping[str, Any]) -> Callable[[str], str]:
    """A reader of one entry point's string fields, each cut at its documented length."""
    def field(name: str) -> str:
        return _str(entry.get(name))[:ENTRY_POINT_LIMITS[name]]
    return field


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []
