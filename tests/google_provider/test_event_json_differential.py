"""The flat ``event_from_google`` against the straightforward reference, event by event.

The corpus: the emulator's benchmark seed (what ``bench/sync.py`` lists), the held-out
join-information corpus (real invitation bodies), hand-written resources covering every
field the conversion reads (all-day, offsets, local times in a named or unknown zone,
recurrence, tombstones, conferences, extended properties), and hypothesis variations of
them with fields dropped or replaced by values of any JSON type. Equal means the same
``repr`` (every field, datetimes with their ``tzinfo``), the same ``raw`` object, or the
same :class:`EventFormatError` message.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import MappingProxyType
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hybrid_calendar_google.event_json import EventFormatError, event_from_google
from hybrid_calendar_google_emulator.options import EmulatorOptions
from hybrid_calendar_google_emulator.state import EmulatorState
from tests.bench_events import join_benchmark_events
from tests.google_provider.event_json_reference import reference_event_from_google
from tests.google_provider.test_event_json import RESOURCE

HELDOUT = Path(__file__).parents[1] / "join_info" / "corpus" / "heldout.jsonl"

HAND_WRITTEN: list[dict[str, Any]] = [
    RESOURCE,
    {"id": "allday", "start": {"date": "2026-12-01"}, "end": {"date": "2026-12-02"},
     "status": "tentative", "recurrence": ["RRULE:FREQ=DAILY", 5, "EXDATE:20261203"]},
    {"id": "baddate", "start": {"date": "2026-13-01"}, "end": {"date": 20261202}},
    {"id": "local", "start": {"dateTime": "2026-12-01T10:00:00", "timeZone": "Europe/Berlin"},
     "end": {"dateTime": "2026-12-01T11:00:00", "timeZone": "No/Such_Zone"},
     "originalStartTime": {"dateTime": "2026-12-01T10:00:00", "timeZone": "America/New_York"},
     "updated": "2026-11-30T09:00:00"},
    {"id": "offset", "start": {"dateTime": "2026-12-01T10:00:00-05:00"},
     "end": {"dateTime": "2026-12-01T10:30:00.123+05:30", "timeZone": 7},
     "updated": "not a time", "sequence": True, "etag": "", "htmlLink": ""},
    {"id": "empty-times", "start": {"dateTime": ""}, "end": {"dateTime": "", "date": "x"},
     "originalStartTime": {}, "updated": ""},
    {"id": "datetime-as-date", "start": {"dateTime": "2026-12-01"},
     "end": {"dateTime": "2026-12-01T10"}},
    {"id": "tombstone", "status": "cancelled"},
    {"id": "instance", "status": "cancelled", "recurringEventId": "series",
     "originalStartTime": {"date": "2026-12-01"}},
    {"id": "people", "organizer": "alice@example.com", "attendees": [
        {"email": "a@example.com", "displayName": "", "responseStatus": ""},
        {"email": "b@example.com", "displayName": "B", "organizer": 1, "resource": "true",
         "optional": True, "responseStatus": "declined"},
        MappingProxyType({"email": "c@example.com", "optional": True}),
        {"email": None}, "d@example.com", None, {}]},
    {"id": "no-people", "attendees": [], "recurrence": "RRULE:FREQ=DAILY",
     "organizer": {"email": 5}},
    {"id": "ext", "extendedProperties": {"private": {"a": 1, 2: None, "c": "d"}}},
    {"id": "ext-empty", "extendedProperties": {}},
    {"id": "ext-odd", "extendedProperties": {"private": ["x"]}, "start": "2026-12-01"},
    {"id": "meet-only", "hangoutLink": "https://meet.google.com/abc-defg-hij"},
    {"id": "conference-empty", "conferenceData": {}},
    {"id": "conference-full", "hangoutLink": "https://meet.google.com/abc-defg-hij",
     "conferenceData": {
         "conferenceId": "x" * 600, "conferenceSolution": {
             "key": {"type": "addOn"}, "name": "Acme Video"},
         "entryPoints": [
             {"entryPointType": "video", "uri": "https://vc.example/" + "a" * 1400,
              "label": "l" * 600, "meetingCode": "123 456 789", "password": "p" * 200},
             {"entryPointType": "sip", "uri": "sip:1@acme.example", "accessCode": "42"},
             {"entryPointType": "phone", "uri": "tel:+1", "pin": "1", "passcode": ""},
             {"entryPointType": "v" * 40, "uri": "tel:+2", "pin": "2" * 200,
              "passcode": "3" * 200, "meetingCode": "4" * 200},
             {"entryPointType": "more", "uri": "https://m", "accessCode": "5" * 200},
             {"entryPointType": "", "uri": "", "passcode": 5, "password": "", "accessCode": 7},
             {"uri": 5}, MappingProxyType({"uri": "https://mapped.example", "pin": "9"}),
             "text", None]}},
    {"id": "conference-odd", "conferenceData": {
        "conferenceSolution": "meet", "conferenceId": 7, "entryPoints": {"uri": "x"}}},
    {"id": "conference-solution-odd", "hangoutLink": 5, "conferenceData": {
        "conferenceSolution": {"key": "hangoutsMeet", "name": 5},
        "entryPoints": [{"entryPointType": 5, "uri": "https://meet.google.com/x"}]}},
    *({"id": f"visibility-{i}", "summary": "Review", "visibility": value}
      for i, value in enumerate(["default", "public", "private", "confidential", "",
                                 "Private", None, 5, ["private"], {"private": True}])),
]


def _seeded() -> list[dict[str, Any]]:
    """The benchmark's seed: 40 users × 25 events, as the emulator lists them."""
    state = EmulatorState(EmulatorOptions())
    users = [f"user{i:03d}@example.com" for i in range(40)]
    state.bulk_seed(users, 25, start=datetime(2026, 11, 30, tzinfo=UTC), days=30)
    return [json.loads(json.dumps(event)) for user in users
            for event in state.calendars[user].events.values()]


def _heldout() -> list[dict[str, Any]]:
    return [json.loads(line)["event"] for line in HELDOUT.read_text().splitlines() if line]


def _join_benchmark() -> list[dict[str, Any]]:
    """``bench/parse_join.py``'s realistic mix (30 % Google Meet conference data)."""
    return join_benchmark_events(600, seed=31)


CORPUS = _seeded() + _heldout() + _join_benchmark() + HAND_WRITTEN


def assert_same(resource: Any) -> None:
    """Both conversions of ``resource`` agree (result or error)."""
    try:
        expected = reference_event_from_google(resource, "cal@example.com")
    except EventFormatError as err:
        with pytest.raises(EventFormatError) as raised:
            event_from_google(resource, "cal@example.com")
        assert str(raised.value) == str(err)
        return
    converted = event_from_google(resource, "cal@example.com")
    assert repr(converted) == repr(expected)
    assert converted.raw == expected.raw
    assert type(converted.private_properties) is type(expected.private_properties)


def test_corpus_is_realistic_and_large() -> None:
    assert len(CORPUS) > 1_000
    assert sum(1 for event in CORPUS if event.get("attendees")) > 400
    assert sum(1 for event in CORPUS if "conferenceData" in event) >= 100


def test_every_corpus_event_converts_identically() -> None:
    for resource in CORPUS:
        assert_same(resource)
        assert_same(MappingProxyType(resource))  # a non-dict mapping takes the copy path


@pytest.mark.parametrize("resource", [None, [], "event", 5, {}, {"id": 5}, {"id": ""}])
def test_non_events_fail_identically(resource: object) -> None:
    assert_same(resource)


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(-3, 3) | st.floats(allow_nan=False)
    | st.sampled_from(["", "x", "2026-12-01", "2026-12-01T10:00:00", "2026-12-01T10:00:00Z",
                       "2026-12-01T10:00:00+02:00", "Europe/Berlin", "UTC", "Bad/Zone",
                       "a@example.com", "confirmed", "cancelled", "private",
                       "confidential", "public", "default"]),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(
        st.sampled_from(["dateTime", "date", "timeZone", "email", "displayName",
                         "responseStatus", "organizer", "resource", "optional", "private",
                         "entryPoints", "uri", "entryPointType", "label", "pin", "passcode",
                         "password", "accessCode", "meetingCode", "conferenceSolution", "key",
                         "type", "name", "conferenceId"]), inner, max_size=4),
    max_leaves=12)
FIELDS = ["id", "status", "start", "end", "originalStartTime", "summary", "description",
          "location", "organizer", "attendees", "recurrence", "recurringEventId", "etag",
          "sequence", "updated", "extendedProperties", "htmlLink", "hangoutLink",
          "conferenceData", "visibility"]


@settings(max_examples=400, deadline=timedelta(seconds=2),
          suppress_health_check=[HealthCheck.too_slow])
@given(index=st.integers(0, len(CORPUS) - 1),
       changes=st.dictionaries(st.sampled_from(FIELDS), JSON_VALUES, max_size=5),
       dropped=st.sets(st.sampled_from(FIELDS), max_size=4))
def test_variations_convert_identically(index: int, changes: dict[str, Any],
                                        dropped: set[str]) -> None:
    resource = {k: v for k, v in CORPUS[index].items() if k not in dropped} | changes
    assert_same(resource)
