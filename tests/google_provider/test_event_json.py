"""Google Calendar event resources to core events."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hybrid_calendar.join_info import detect
from hybrid_calendar_google.event_json import EventFormatError, event_from_google

RESOURCE = {
    "kind": "calendar#event", "etag": "\"3187221858184000\"",
    "id": "3gi3kabkm3bua5lq3jhscc8s4c_20220615T200000Z", "status": "confirmed",
    "htmlLink": "https://www.google.com/calendar/event?eid=abc",
    "updated": "2020-07-01T13:42:09.092Z", "summary": "Intro", "description": "Hi",
    "location": "@webex", "organizer": {"email": "alice@example.com", "self": True},
    "start": {"dateTime": "2022-06-15T22:00:00+02:00", "timeZone": "Europe/Berlin"},
    "end": {"dateTime": "2022-06-15T23:00:00+02:00", "timeZone": "Europe/Berlin"},
    "recurringEventId": "3gi3kabkm3bua5lq3jhscc8s4c",
    "originalStartTime": {"dateTime": "2022-06-15T22:00:00+02:00"}, "sequence": 2,
    "attendees": [{"email": "bob@example.com", "responseStatus": "needsAction"},
                  {"email": "alice@example.com", "organizer": True, "responseStatus": "accepted"},
                  {"email": "c_188@resource.calendar.google.com", "displayName": "Room 1",
                   "resource": True, "responseStatus": "accepted"},
                  {"displayName": "no email"}],
    "hangoutLink": "https://meet.google.com/xcb-hfjb-psv",
    "conferenceData": {"entryPoints": [
        {"entryPointType": "video", "uri": "https://meet.google.com/xcb-hfjb-psv",
         "label": "meet.google.com/xcb-hfjb-psv"},
        {"entryPointType": "more", "uri": "https://tel.meet/xcb-hfjb-psv?pin=4442155852117",
         "pin": "4442155852117"},
        {"regionCode": "DE", "entryPointType": "phone", "uri": "tel:+49-40-8081617300",
         "label": "+49 40 8081617300", "pin": "657955248"}],
        "conferenceSolution": {"key": {"type": "hangoutsMeet"}, "name": "Google Meet"},
        "conferenceId": "xcb-hfjb-psv"},
    "extendedProperties": {"private": {"webexMeetingId": "123"}, "shared": {"x": "y"}},
}


def test_full_resource() -> None:
    event = event_from_google(RESOURCE, "alice@example.com")
    berlin = timezone(timedelta(hours=2))
    assert event.id == RESOURCE["id"] and event.calendar_id == "alice@example.com"
    assert event.start == datetime(2022, 6, 15, 22, tzinfo=berlin)
    assert event.end == datetime(2022, 6, 15, 23, tzinfo=berlin)
    assert event.original_start == event.start and not event.all_day
    assert event.updated == datetime(2020, 7, 1, 13, 42, 9, 92000, tzinfo=UTC)
    assert (event.summary, event.location, event.organizer) == ("Intro", "@webex",
                                                                "alice@example.com")
    assert [a.email for a in event.attendees] == ["bob@example.com", "alice@example.com",
                                                  "c_188@resource.calendar.google.com"]
    assert event.attendees[2].resource and event.attendees[1].organizer
    assert event.private_properties == {"webexMeetingId": "123"}
    assert event.recurring_event_id == "3gi3kabkm3bua5lq3jhscc8s4c" and event.sequence == 2
    assert event.time_zone == "Europe/Berlin" and event.etag == "\"3187221858184000\""
    assert event.conference is not None
    assert event.conference.solution == "hangoutsMeet"
    assert [e.kind for e in event.conference.entry_points] == ["video", "more", "phone"]
    assert event.conference.entry_points[2].pin == "657955248"
    assert event.attendees[2].display_name == "Room 1"
    assert event.raw is RESOURCE  # kept for plugins, not copied


@pytest.mark.parametrize(("visibility", "private"), [
    ("private", True), ("confidential", True), ("default", False), ("public", False),
    (None, False), ("", False), ("PRIVATE", False), (["private"], False)])
def test_visibility_private_and_confidential_make_the_event_private(
        visibility: object, private: bool) -> None:
    resource: dict[str, object] = {"id": "x", "summary": "Review"}
    if visibility is not None:
        resource["visibility"] = visibility
    event = event_from_google(resource)
    assert event.private is private and event.summary == "Review"


def test_an_event_without_visibility_is_not_private() -> None:
    assert "visibility" not in RESOURCE
    assert event_from_google(RESOURCE).private is False


def test_all_day_and_minimal() -> None:
    event = event_from_google({"id": "x", "start": {"date": "2026-03-01"},
                               "end": {"date": "2026-03-02"}})
    assert event.all_day and event.start == datetime(2026, 3, 1, tzinfo=UTC)
    assert event.end == datetime(2026, 3, 2, tzinfo=UTC)
    assert event.status == "confirmed" and event.conference is None


def test_time_without_offset_is_read_in_its_time_zone() -> None:
    # one week apart across Berlin's DST change (2026-03-29): same wall clock, other offset
    event = event_from_google({
        "id": "x", "start": {"dateTime": "2026-03-23T09:00:00", "timeZone": "Europe/Berlin"},
        "end": {"dateTime": "2026-03-30T09:00:00", "timeZone": "Europe/Berlin"},
        "originalStartTime": {"dateTime": "2026-03-23T09:00:00", "timeZone": "Nowhere/X"}})
    assert event.start == datetime(2026, 3, 23, 8, tzinfo=UTC)
    assert event.end == datetime(2026, 3, 30, 7, tzinfo=UTC)
    assert event.original_start == datetime(2026, 3, 23, 9, tzinfo=UTC)  # unknown zone: UTC


def test_minimal_tombstone() -> None:
    event = event_from_google({"id": "gone", "status": "cancelled"}, "c")
    assert event.cancelled and event.start is None and event.end is None
    assert event.summary == "" and event.attendees == ()


def test_cancelled_instance_keeps_series_link() -> None:
    event = event_from_google({"id": "s_20261201T100000Z", "status": "cancelled",
                               "recurringEventId": "s",
                               "originalStartTime": {"dateTime": "2026-12-01T10:00:00Z"}}, "c")
    assert event.cancelled and event.recurring_event_id == "s"
    assert event.original_start == datetime(2026, 12, 1, 10, tzinfo=UTC)


def test_wrong_types_are_ignored() -> None:
    event = event_from_google({"id": "x", "summary": 5, "attendees": "bob", "sequence": "2",
                               "conferenceData": [], "start": {"dateTime": "not a date"},
                               "extendedProperties": {"private": None}})
    assert event.summary == "" and event.attendees == () and event.sequence == 0
    assert event.start is None and event.private_properties == {}


@pytest.mark.parametrize("resource", [None, [], "event", 5, {}, {"id": 5}, {"id": ""}])
def test_not_an_event(resource: object) -> None:
    with pytest.raises(EventFormatError):
        event_from_google(resource)


@settings(max_examples=100, deadline=timedelta(seconds=2))
@given(resource=st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(
        st.sampled_from(["id", "start", "end", "description", "location", "conferenceData",
                         "entryPoints", "uri", "hangoutLink", "attendees", "email",
                         "dateTime", "date", "extendedProperties", "private"]),
        inner, max_size=6),
    max_leaves=20))
def test_google_event_conversion_never_crashes(resource: object) -> None:
    try:
        converted = event_from_google(resource)
    except EventFormatError:
        return
    found = detect(converted)  # the core's detector copes with whatever came through
    assert found is None or found.source in ("conference", "location", "body")


def test_entry_point_fields_are_cut_at_the_documented_lengths() -> None:
    """Calendar API reference: uri 1300, label 512, codes 128 characters at most."""
    hostile = {**RESOURCE, "conferenceData": {"conferenceId": "c" * 5000, "entryPoints": [{
        "entryPointType": "video", "uri": "https://zoom.us/j/1" + "9" * 400_000,
        "label": "l" * 9999, "pin": "1" * 9999, "passcode": "2" * 9999,
        "meetingCode": "3" * 9999}]}}
    conference = event_from_google(hostile).conference
    assert conference is not None and conference.conference_id == "c" * 512
    entry = conference.entry_points[0]
    assert len(entry.uri) == 1300 and entry.uri.startswith("https://zoom.us/j/1")
    assert (len(entry.label or ""), entry.pin, entry.passcode, entry.meeting_code) == (
        512, "1" * 128, "2" * 128, "3" * 128)
