"""Unit tests of the pure parts: fields selector, query validation, recurrence, quickAdd."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from hybrid_calendar_google_emulator.api_errors import ApiError
from hybrid_calendar_google_emulator.fields import apply_fields, parse_fields
from hybrid_calendar_google_emulator.query import parse_list_query
from hybrid_calendar_google_emulator.quickadd import parse_quick_add
from hybrid_calendar_google_emulator.recurrence import occurrences, split_instance_id


@pytest.mark.parametrize(("text", "expected"), [
    ("kind", {"kind": None}),
    ("items(id,start/dateTime)", {"items": {"id": None, "start": {"dateTime": None}}}),
    ("items/id,items/summary", {"items": {"id": None, "summary": None}}),
    ("items(attendees(email)),items", {"items": None}),
    ("items(*)", {"items": {"*": None}}),
])
def test_parse_fields(text: str, expected: dict[str, object]) -> None:
    assert parse_fields(text) == expected


@pytest.mark.parametrize("text", ["items(", "items)", ",kind", "a//b", "items(id))", ""])
def test_parse_fields_rejects(text: str) -> None:
    with pytest.raises(ApiError) as info:
        parse_fields(text)
    assert info.value.code == 400


def test_apply_fields_wildcard_and_missing_keys() -> None:
    data = {"items": [{"id": "1", "x": {"y": 1}}], "kind": "k"}
    assert apply_fields(data, parse_fields("items(*),etag")) == {"items": [{"id": "1",
                                                                              "x": {"y": 1}}]}
    assert apply_fields(data, parse_fields("items/x/y")) == {"items": [{"x": {"y": 1}}]}


@pytest.mark.parametrize(("params", "code"), [
    ([("maxResults", "0")], 400), ([("maxResults", "abc")], 400),
    ([("timeMin", "2026-01-01T00:00:00")], 400),  # no offset
    ([("singleEvents", "maybe")], 400), ([("orderBy", "title")], 400),
    ([("privateExtendedProperty", "novalue")], 400),
])
def test_query_rejects(params: list[tuple[str, str]], code: int) -> None:
    with pytest.raises(ApiError) as info:
        parse_list_query(params)
    assert info.value.code == code


def test_query_clamps_and_defaults() -> None:
    query = parse_list_query([("maxResults", "99999")])
    assert query.max_results == 2500 and not query.single_events and not query.show_deleted
    assert parse_list_query([]).max_results == 250
    synced = parse_list_query([("syncToken", "x")])
    assert synced.show_deleted  # deletions always included in incremental sync


def test_monthly_byday_and_date_only_until() -> None:
    berlin = ZoneInfo("Europe/Berlin")
    start = dt.datetime(2026, 1, 12, 9, tzinfo=berlin)
    second_mondays = list(occurrences(["RRULE:FREQ=MONTHLY;BYDAY=2MO;COUNT=3"], start,
                                      "Europe/Berlin"))
    days = [d.date() if isinstance(d, dt.datetime) else None for d in second_mondays]
    assert days == [dt.date(2026, 1, 12), dt.date(2026, 2, 9), dt.date(2026, 3, 9)]
    until = list(occurrences(["RRULE:FREQ=DAILY;UNTIL=20260114"], start, "Europe/Berlin"))
    assert [d.day for d in until] == [12, 13, 14]  # date-only UNTIL includes that day
    weekly = list(occurrences(["RRULE:FREQ=WEEKLY;INTERVAL=2;BYDAY=TU,TH;COUNT=4"],
                              dt.datetime(2026, 1, 13, 9, tzinfo=berlin), "Europe/Berlin"))
    assert [d.day for d in weekly] == [13, 15, 27, 29]


def test_bad_rule_is_400() -> None:
    with pytest.raises(ApiError) as info:
        list(occurrences(["RRULE:FREQ=SOMETIMES"], dt.date(2026, 1, 1), None))
    assert info.value.code == 400


def test_split_instance_id() -> None:
    assert split_instance_id("abc_20260101T090000Z") == ("abc", "20260101T090000Z")
    assert split_instance_id("abc_20260101") == ("abc", "20260101")
    assert split_instance_id("abcdef") is None


def test_quick_add_forms() -> None:
    event = parse_quick_add("Review 3pm for 30 minutes", "UTC")
    start = dt.datetime.fromisoformat(event["start"]["dateTime"])
    end = dt.datetime.fromisoformat(event["end"]["dateTime"])
    assert (start.hour, (end - start).seconds) == (15, 1800)
    assert event["summary"] == "Review"
    friday = parse_quick_add("Retro on friday at noon", "UTC")
    assert dt.datetime.fromisoformat(friday["start"]["dateTime"]).weekday() == 4
