"""Google Event JSON to CalendarEvent, as the provider converts list/get/patch results.

The provider reuses :func:`hybrid_calendar.join_info.google_event.event_from_google`;
these cases pin down what the provider relies on (instances, tombstones, markers).
"""

from __future__ import annotations

from datetime import UTC, datetime

from hybrid_calendar.join_info.google_event import event_from_google as to_event

INSTANCE = {
    "kind": "calendar#event", "etag": "\"3187221858184000\"",
    "id": "3gi3kabkm3bua5lq3jhscc8s4c_20220615T200000Z", "status": "confirmed",
    "htmlLink": "https://www.google.com/calendar/event?eid=x",
    "updated": "2020-07-01T13:42:09.092Z", "summary": "Intro", "description": "Body",
    "location": "@webex", "organizer": {"email": "alice@example.com", "self": True},
    "start": {"dateTime": "2022-06-15T22:00:00+02:00", "timeZone": "Europe/Berlin"},
    "end": {"dateTime": "2022-06-15T23:00:00+02:00", "timeZone": "Europe/Berlin"},
    "recurringEventId": "3gi3kabkm3bua5lq3jhscc8s4c",
    "originalStartTime": {"dateTime": "2022-06-15T22:00:00+02:00",
                          "timeZone": "Europe/Berlin"},
    "sequence": 2,
    "attendees": [{"email": "bob@example.com", "responseStatus": "needsAction"},
                  {"email": "room@resource.calendar.google.com", "resource": True,
                   "responseStatus": "accepted", "displayName": "Room 1"}],
    "conferenceData": {"entryPoints": [
        {"entryPointType": "video", "uri": "https://meet.google.com/xcb-hfjb-psv",
         "label": "meet.google.com/xcb-hfjb-psv"},
        {"entryPointType": "phone", "uri": "tel:+49-40-8081617300", "pin": "657955248"}],
        "conferenceSolution": {"key": {"type": "hangoutsMeet"}, "name": "Google Meet"},
        "conferenceId": "xcb-hfjb-psv"},
    "extendedProperties": {"private": {"hcMarker": "abc"}, "shared": {"x": "y"}},
}


def test_instance_converts_to_utc_with_all_fields() -> None:
    event = to_event(INSTANCE, "alice@example.com")
    assert event.start == datetime(2022, 6, 15, 20, 0, tzinfo=UTC)
    assert event.end == datetime(2022, 6, 15, 21, 0, tzinfo=UTC)
    assert event.original_start == event.start
    assert event.recurring_event_id == "3gi3kabkm3bua5lq3jhscc8s4c"
    assert event.etag == "\"3187221858184000\"" and event.sequence == 2
    assert event.updated == datetime(2020, 7, 1, 13, 42, 9, 92000, tzinfo=UTC)
    assert event.organizer == "alice@example.com"
    assert [a.email for a in event.attendees] == ["bob@example.com",
                                                 "room@resource.calendar.google.com"]
    assert event.attendees[1].resource and event.attendees[1].display_name == "Room 1"
    assert event.conference is not None and event.conference.solution == "hangoutsMeet"
    assert event.conference.entry_points[1].pin == "657955248"
    assert event.private_properties == {"hcMarker": "abc"}
    assert event.time_zone == "Europe/Berlin" and not event.all_day
    assert event.raw is INSTANCE


def test_all_day_event() -> None:
    event = to_event({"id": "e1", "start": {"date": "2026-12-01"},
                      "end": {"date": "2026-12-02"}}, "c")
    assert event.all_day
    assert event.start == datetime(2026, 12, 1, 0, 0, tzinfo=UTC)
    assert event.end == datetime(2026, 12, 2, 0, 0, tzinfo=UTC)


def test_minimal_tombstone() -> None:
    event = to_event({"id": "gone", "status": "cancelled"}, "c")
    assert event.cancelled and event.start is None and event.end is None
    assert event.summary == "" and event.attendees == ()


def test_cancelled_instance_keeps_series_link() -> None:
    event = to_event({"id": "s_20261201T100000Z", "status": "cancelled",
                      "recurringEventId": "s",
                      "originalStartTime": {"dateTime": "2026-12-01T10:00:00Z"}}, "c")
    assert event.recurring_event_id == "s"
    assert event.original_start == datetime(2026, 12, 1, 10, tzinfo=UTC)
