"""Recurring events: RRULE/EXDATE/RDATE expansion, instances, exceptions, singleEvents."""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from googleapiclient.errors import HttpError

from hybrid_calendar_google_emulator.recurrence import instance_id, occurrences
from hybrid_calendar_google_emulator.testing import RunningEmulator
from tests.google_emulator.helpers import ALICE

BERLIN = ZoneInfo("Europe/Berlin")


def weekly(cal: Any, rules: list[str], **extra: Any) -> dict[str, Any]:
    """A Monday 09:00 Berlin weekly series starting 2026-03-23 (DST change on 03-29)."""
    return dict(cal.events().insert(calendarId="primary", body={
        "summary": "Standup", "recurrence": rules,
        "start": {"dateTime": "2026-03-23T09:00:00", "timeZone": "Europe/Berlin"},
        "end": {"dateTime": "2026-03-23T09:15:00", "timeZone": "Europe/Berlin"}, **extra,
    }).execute())


def test_rrule_subset_unit() -> None:
    start = dt.datetime(2026, 1, 31, 10, tzinfo=BERLIN)
    monthly = list(occurrences(["RRULE:FREQ=MONTHLY;BYMONTHDAY=31;COUNT=3"], start,
                               "Europe/Berlin"))
    days = [d.date() if isinstance(d, dt.datetime) else None for d in monthly]
    assert days == [dt.date(2026, 1, 31), dt.date(2026, 3, 31), dt.date(2026, 5, 31)]
    yearly = list(occurrences(["RRULE:FREQ=YEARLY;INTERVAL=2;UNTIL=20310101T000000Z"],
                              start, "Europe/Berlin"))
    assert [d.year for d in yearly] == [2026, 2028, 2030]
    daily = list(occurrences(["RRULE:FREQ=DAILY;COUNT=3",
                              "RDATE;TZID=Europe/Berlin:20260210T100000",
                              "EXDATE:20260201T090000Z"], start, "Europe/Berlin"))
    assert [d.day for d in daily] == [31, 2, 10]
    assert instance_id("abc", dt.datetime(2026, 3, 30, 9, tzinfo=BERLIN)) == \
        "abc_20260330T070000Z"
    assert instance_id("abc", dt.date(2026, 3, 30)) == "abc_20260330"


def test_instances_keep_wall_clock_across_dst(emu: RunningEmulator, cal: Any) -> None:
    emu.state.set_setting(ALICE, "timezone", "Europe/Berlin")
    master = weekly(cal, ["RRULE:FREQ=WEEKLY;BYDAY=MO,WE;COUNT=4"])
    page = cal.events().instances(calendarId="primary", eventId=master["id"]).execute()
    starts = [e["start"]["dateTime"] for e in page["items"]]
    assert starts == ["2026-03-23T09:00:00+01:00", "2026-03-25T09:00:00+01:00",
                      "2026-03-30T09:00:00+02:00", "2026-04-01T09:00:00+02:00"]
    first = page["items"][0]
    assert first["id"] == f"{master['id']}_20260323T080000Z"
    assert first["recurringEventId"] == master["id"]
    assert first["originalStartTime"] == {"dateTime": "2026-03-23T09:00:00+01:00",
                                          "timeZone": "Europe/Berlin"}
    assert "recurrence" not in first
    assert page["items"][2]["end"]["dateTime"] == "2026-03-30T09:15:00+02:00"


def test_recurring_needs_time_zone(cal: Any) -> None:
    with pytest.raises(HttpError) as info:
        cal.events().insert(calendarId="primary", body={
            "recurrence": ["RRULE:FREQ=DAILY"],
            "start": {"dateTime": "2026-03-23T09:00:00+01:00"},
            "end": {"dateTime": "2026-03-23T10:00:00+01:00"}}).execute()
    assert info.value.status_code == 400


def test_exception_and_cancelled_instance(emu: RunningEmulator, cal: Any) -> None:
    emu.state.set_setting(ALICE, "timezone", "Europe/Berlin")
    master = weekly(cal, ["RRULE:FREQ=WEEKLY;COUNT=3", "EXDATE;TZID=Europe/Berlin:20260406T090000"])
    ids = [e["id"] for e in cal.events().instances(calendarId="primary", eventId=master["id"]
                                                   ).execute()["items"]]
    assert ids == [f"{master['id']}_20260323T080000Z", f"{master['id']}_20260330T070000Z"]
    token = cal.events().list(calendarId="primary").execute()["nextSyncToken"]
    moved = cal.events().patch(calendarId="primary", eventId=ids[1], body={
        "start": {"dateTime": "2026-03-30T11:00:00+02:00"},
        "end": {"dateTime": "2026-03-30T11:30:00+02:00"}}).execute()
    assert moved["id"] == ids[1] and moved["recurringEventId"] == master["id"]
    assert moved["originalStartTime"]["dateTime"] == "2026-03-30T09:00:00+02:00"
    cal.events().delete(calendarId="primary", eventId=ids[0]).execute()
    expanded = cal.events().list(calendarId="primary", singleEvents=True,
                                 orderBy="startTime").execute()["items"]
    assert [e["start"]["dateTime"] for e in expanded] == ["2026-03-30T11:00:00+02:00"]
    # without singleEvents: the master plus its exceptions (cancelled ones included)
    plain = cal.events().list(calendarId="primary").execute()["items"]
    assert {e["id"]: e.get("status") for e in plain} == {
        master["id"]: "confirmed", ids[1]: "confirmed", ids[0]: "cancelled"}
    changes = cal.events().list(calendarId="primary", syncToken=token).execute()["items"]
    cancelled = [e for e in changes if e["status"] == "cancelled"]
    assert cancelled == [{"kind": "calendar#event", "etag": cancelled[0]["etag"],
                          "id": ids[0], "status": "cancelled",
                          "recurringEventId": master["id"],
                          "originalStartTime": {"dateTime": "2026-03-23T09:00:00+01:00",
                                                "timeZone": "Europe/Berlin"}}]
    assert emu.state.get_event(ALICE, ids[1])["start"]["dateTime"] == \
        "2026-03-30T11:00:00+02:00"


def test_single_events_window_and_unbounded_series(cal: Any) -> None:
    master = weekly(cal, ["RRULE:FREQ=DAILY"])
    page = cal.events().list(calendarId="primary", singleEvents=True,
                             timeMin="2027-01-01T00:00:00Z", timeMax="2027-01-04T00:00:00Z",
                             orderBy="startTime").execute()
    assert [e["id"] for e in page["items"]] == [
        f"{master['id']}_2027010{d}T080000Z" for d in (1, 2, 3)]
    masters = cal.events().list(calendarId="primary", timeMin="2027-01-01T00:00:00Z",
                                timeMax="2027-01-04T00:00:00Z").execute()["items"]
    assert [e["id"] for e in masters] == [master["id"]]
    assert masters[0]["recurrence"] == ["RRULE:FREQ=DAILY"]


def test_all_day_series_ids(cal: Any) -> None:
    master = cal.events().insert(calendarId="primary", body={
        "summary": "Holiday", "recurrence": ["RRULE:FREQ=YEARLY;COUNT=2"],
        "start": {"date": "2026-12-24"}, "end": {"date": "2026-12-25"}}).execute()
    items = cal.events().instances(calendarId="primary", eventId=master["id"]).execute()["items"]
    assert [(e["id"], e["start"], e["end"]) for e in items] == [
        (f"{master['id']}_20261224", {"date": "2026-12-24"}, {"date": "2026-12-25"}),
        (f"{master['id']}_20271224", {"date": "2027-12-24"}, {"date": "2027-12-25"})]
    got = cal.events().get(calendarId="primary", eventId=f"{master['id']}_20271224").execute()
    assert got["originalStartTime"] == {"date": "2027-12-24"}


def test_instances_time_min_inclusive_and_original_start(cal: Any) -> None:
    master = weekly(cal, ["RRULE:FREQ=WEEKLY;COUNT=5"])
    page = cal.events().instances(calendarId="primary", eventId=master["id"],
                                  timeMin="2026-03-30T09:15:00+02:00").execute()
    assert len(page["items"]) == 4  # inclusive: 03-30 ends exactly at timeMin
    later = cal.events().instances(calendarId="primary", eventId=master["id"],
                                   timeMin="2026-03-30T09:15:01+02:00").execute()
    assert len(later["items"]) == 3
    listed = cal.events().list(calendarId="primary", singleEvents=True,
                               timeMin="2026-03-30T09:15:00+02:00").execute()
    assert len(listed["items"]) == 3  # events.list: exclusive
    one = cal.events().instances(calendarId="primary", eventId=master["id"],
                                 originalStart="2026-04-13T09:00:00+02:00").execute()
    assert [e["id"] for e in one["items"]] == [f"{master['id']}_20260413T070000Z"]
    paged = cal.events().instances(calendarId="primary", eventId=master["id"],
                                   maxResults=2).execute()
    assert len(paged["items"]) == 2 and "nextPageToken" in paged
    assert "nextSyncToken" not in paged


def test_deleting_master_cancels_instances_in_sync(cal: Any) -> None:
    master = weekly(cal, ["RRULE:FREQ=WEEKLY;COUNT=2"])
    token = cal.events().list(calendarId="primary", singleEvents=True).execute()["nextSyncToken"]
    cal.events().delete(calendarId="primary", eventId=master["id"]).execute()
    changes = cal.events().list(calendarId="primary", singleEvents=True,
                                syncToken=token).execute()["items"]
    assert sorted(e["id"] for e in changes) == [f"{master['id']}_20260323T080000Z",
                                                f"{master['id']}_20260330T070000Z"]
    assert {e["status"] for e in changes} == {"cancelled"}
    plain = cal.events().list(calendarId="primary", syncToken=cal.events().list(
        calendarId="primary").execute()["nextSyncToken"]).execute()
    assert plain["items"] == []
