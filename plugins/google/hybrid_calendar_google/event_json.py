"""Google Calendar event resources (JSON) to core :class:`CalendarEvent` objects.

Pure functions, no I/O: the provider converts every ``events.list``/``events.get`` item
with :func:`event_from_google` (:mod:`.sync`, :mod:`.invites`), and so does the
``parse-join`` command (:mod:`.parse_join`). The core only ever sees the resulting
:class:`CalendarEvent`. Field names follow
the Calendar API v3 ``Event`` resource; missing fields get the model's defaults and
fields of the wrong type are ignored rather than trusted.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import fields
from datetime import UTC, date, datetime, tzinfo
from functools import lru_cache
from types import MappingProxyType
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from hybrid_calendar.models import Attendee, CalendarEvent, Conference, ConferenceEntryPoint

ENTRY_POINT_LIMITS = {"uri": 1300, "label": 512, "pin": 128, "passcode": 128,
                      "password": 128, "accessCode": 128, "meetingCode": 128}
"""The maximum lengths the Calendar API reference documents for ``EntryPoint`` fields
(``conferenceData.entryPoints[]``); longer values are cut before anything parses them.
``description`` and ``location`` have no documented maximum: the join-info parser cuts
them at :data:`hybrid_calendar.join_info.extract.MAX_TEXT`."""
MAX_CONFERENCE_ID = 512
"""``conferenceData.conferenceId`` has no documented maximum; cut like a label."""
PRIVATE_VISIBILITY = frozenset({"private", "confidential"})
"""The ``visibility`` values that make an event private (:attr:`CalendarEvent.private`):
its details are only for its attendees (``confidential`` is a legacy synonym of
``private``). ``default`` follows the calendar's default sharing, which the gateway does
not read; it and ``public`` (and a missing or unknown value) are not private: hiding
every ``default`` event would hide nearly every event (docs/architecture.md)."""


class EventFormatError(ValueError):
    """The input is not a Google Calendar event resource (not an object, no ``id``)."""


def event_from_google(resource: Any, calendar_id: str = "primary") -> CalendarEvent:
    """Convert one ``Event`` resource; raises :class:`EventFormatError` if it is not one.

    This runs for every event of every sync, so the common path is written out flat: no
    abstract ``isinstance`` checks (decoded JSON objects are exactly ``dict``, strings
    exactly ``str``; anything else takes the general helpers), no intermediate tuples or
    generators, and the models built with positional arguments (the field order is
    checked when this module is imported). ``tests/google_provider/
    test_event_json_differential.py`` holds it equal to the straightforward version.
    """
    if type(resource) is not dict:
        if not isinstance(resource, Mapping):
            raise EventFormatError("an event must be a JSON object")
        resource = dict(resource)
    get = resource.get
    event_id = get("id")
    if type(event_id) is not str or not event_id:
        raise EventFormatError("an event needs a string 'id'")

    start_data = get("start")
    if type(start_data) is not dict:
        start_data = _mapping(start_data)
    start_zone = start_data.get("timeZone")
    moment = start_data.get("dateTime")
    if type(moment) is str:
        try:  # the common case written out: an RFC 3339 value with its offset
            start = _fromisoformat(moment)
        except ValueError:
            start = None
        if start is not None and start.tzinfo is None:
            start = start.replace(tzinfo=_zone(start_zone) if type(start_zone) is str else UTC)
        all_day = False
    else:
        start, all_day = _when(start_data)
    end_data = get("end")
    if type(end_data) is dict and type(moment := end_data.get("dateTime")) is str and moment:
        try:
            end = _fromisoformat(moment)
        except ValueError:
            end = None
        if end is not None and end.tzinfo is None:
            end = _datetime(moment, end_data.get("timeZone"))
    else:
        end = _when(end_data)[0]
    original = get("originalStartTime")
    original_start = _when(original)[0] if original is not None else None

    extended = get("extendedProperties")
    private: dict[str, str] = {}
    if extended:
        private = {str(k): str(v) for k, v in _mapping(_mapping(extended).get("private")).items()}
    organizer = get("organizer")
    organizer = (organizer if type(organizer) is dict else _mapping(organizer)).get("email")

    attendees: tuple[Attendee, ...] = ()
    listed = get("attendees")
    if type(listed) is list and listed:
        people = []
        for item in listed:
            if type(item) is not dict and not isinstance(item, Mapping):
                continue
            attend = item.get
            email = attend("email")
            if type(email) is not str:
                continue
            name = attend("displayName")
            response = attend("responseStatus")
            people.append(Attendee(
                email, name if type(name) is str and name else None,
                response if type(response) is str and response else "needsAction",
                attend("organizer") is True, attend("resource") is True,
                attend("optional") is True, attend("self") is True))
        attendees = tuple(people)
    updated = get("updated")
    if type(updated) is str and updated:
        try:
            updated = _fromisoformat(updated)
        except ValueError:
            updated = None
        else:
            if updated.tzinfo is None:
                updated = updated.replace(tzinfo=UTC)
    else:
        updated = None
    recurrence = get("recurrence")
    status = get("status")
    summary = get("summary")
    description = get("description")
    location = get("location")
    recurring = get("recurringEventId")
    etag = get("etag")
    sequence = get("sequence")
    html_link = get("htmlLink")
    visibility = get("visibility")
    return CalendarEvent(
        event_id,
        calendar_id,
        status if type(status) is str and status else "confirmed",
        start,
        end,
        summary if type(summary) is str else "",
        description if type(description) is str else "",
        location if type(location) is str else "",
        all_day,
        organizer if type(organizer) is str else None,
        attendees,
        (conference_from_google(resource)
         if "conferenceData" in resource or "hangoutLink" in resource else None),
        recurring if type(recurring) is str and recurring else None,
        original_start,
        tuple([r for r in recurrence if type(r) is str]) if type(recurrence) is list else (),
        etag if type(etag) is str and etag else None,
        sequence if type(sequence) is int else 0,
        updated,
        private,
        html_link if type(html_link) is str and html_link else None,
        start_zone if type(start_zone) is str else None,
        type(visibility) is str and visibility in PRIVATE_VISIBILITY,
        resource,
    )


_POSITIONAL = {
    CalendarEvent: ("id", "calendar_id", "status", "start", "end", "summary", "description",
                    "location", "all_day", "organizer", "attendees", "conference",
                    "recurring_event_id", "original_start", "recurrence", "etag", "sequence",
                    "updated", "private_properties", "html_link", "time_zone", "private",
                    "raw"),
    Attendee: ("email", "display_name", "response_status", "organizer", "resource",
               "optional", "calendar_owner"),
}
"""The field order :func:`event_from_google` passes positionally, per model."""
for _model, _names in _POSITIONAL.items():
    if tuple(f.name for f in fields(_model)) != _names:  # pragma: no cover - a model changed
        raise ImportError(f"{_model.__name__}'s fields changed order: update event_json.py")


def conference_from_google(resource: Mapping[str, Any]) -> Conference | None:
    """``conferenceData`` (or a bare ``hangoutLink``) as a :class:`Conference`.

    Written out flat for decoded JSON (objects exactly ``dict``, strings exactly ``str``);
    an entry point of any other mapping type takes :func:`_entry_point`.
    ``tests/google_provider/test_event_json_differential.py`` holds it equal to the
    straightforward version (``event_json_reference.py``)."""
    data = resource.get("conferenceData")
    if type(data) is not dict:
        data = _mapping(data)
    entries = []
    points = data.get("entryPoints")
    if isinstance(points, list):
        for entry in points:
            if type(entry) is not dict:
                if isinstance(entry, Mapping) and isinstance(entry.get("uri"), str):
                    entries.append(_entry_point(entry))
                continue
            get = entry.get
            uri = get("uri")
            if type(uri) is not str:
                if not isinstance(uri, str):
                    continue
                uri = ""  # a str subclass reads as "" (what _str makes of it)
            kind, label, pin = get("entryPointType"), get("label"), get("pin")
            passcode, code = get("passcode"), get("meetingCode")
            if not (type(passcode) is str and passcode):
                passcode = get("password")
                if not (type(passcode) is str and passcode):
                    passcode = get("accessCode")
            entries.append(ConferenceEntryPoint(
                kind[:32] if type(kind) is str and kind else "video",
                uri[:1300],
                label[:512] if type(label) is str and label else None,
                pin[:128] if type(pin) is str and pin else None,
                passcode[:128] if type(passcode) is str and passcode else None,
                code[:128] if type(code) is str and code else None))
    solution = data.get("conferenceSolution")
    if type(solution) is not dict:
        solution = _mapping(solution)
    key = _str(_mapping(solution.get("key")).get("type")) or None
    hangout = resource.get("hangoutLink")
    if not entries and isinstance(hangout, str) and hangout:
        entries.append(ConferenceEntryPoint("video", hangout[:ENTRY_POINT_LIMITS["uri"]]))
        key = key or "hangoutsMeet"
    if not entries:
        return None
    conference_id, name = data.get("conferenceId"), solution.get("name")
    return Conference(key,
                      conference_id[:MAX_CONFERENCE_ID] or None
                      if type(conference_id) is str else None,
                      tuple(entries), name or None if type(name) is str else None)


_ENTRY_POINT_FIELDS = ("kind", "uri", "label", "pin", "passcode", "meeting_code")
if tuple(f.name for f in fields(ConferenceEntryPoint)) != _ENTRY_POINT_FIELDS or tuple(
        f.name for f in fields(Conference)) != ("solution", "conference_id", "entry_points",
                                                "name"):  # pragma: no cover
    raise ImportError("the conference models' fields changed order: update event_json.py")
if ENTRY_POINT_LIMITS != {"uri": 1300, "label": 512, "pin": 128, "passcode": 128,
                          "password": 128, "accessCode": 128,
                          "meetingCode": 128}:  # pragma: no cover
    raise ImportError("ENTRY_POINT_LIMITS changed: update conference_from_google")


def _entry_point(entry: Mapping[str, Any]) -> ConferenceEntryPoint:
    """One entry point of a mapping that is not a ``dict`` (the general path)."""
    field = _entry_field(entry)
    return ConferenceEntryPoint(
        kind=_str(entry.get("entryPointType"))[:32] or "video",
        uri=field("uri"),
        label=field("label") or None,
        pin=field("pin") or None,
        passcode=field("passcode") or field("password") or field("accessCode") or None,
        meeting_code=field("meetingCode") or None,
    )


def _entry_field(entry: Mapping[str, Any]) -> Callable[[str], str]:
    """A reader of one entry point's string fields, each cut at its documented length."""
    def field(name: str) -> str:
        return _str(entry.get(name))[:ENTRY_POINT_LIMITS[name]]
    return field


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


_fromisoformat = datetime.fromisoformat
_EMPTY: Mapping[str, Any] = MappingProxyType({})


def _mapping(value: Any) -> Mapping[str, Any]:
    if type(value) is dict:
        return value
    return value if isinstance(value, Mapping) else _EMPTY


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _str(value: Any) -> str:
    return value if type(value) is str else ""
