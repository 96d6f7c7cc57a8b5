"""Gmail vacation, Calendar settings, ACL, freeBusy, quickAdd, calendars/calendarList."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from googleapiclient.discovery import build
from googleapiclient.errors import HttpError

from hybrid_calendar_google_emulator.testing import RunningEmulator
from tests.google_emulator.helpers import ALICE, BOB, CAROL, GMAIL_SETTINGS, timed


@pytest.fixture
def gmail(emu: RunningEmulator) -> Any:
    """Alice's Gmail v1 service with gmail.settings.basic."""
    creds = emu.credentials(ALICE, [GMAIL_SETTINGS])
    service = build("gmail", "v1", credentials=creds,
                    client_options={"api_endpoint": emu.base_url + "/"},
                    static_discovery=True, cache_discovery=False)
    yield service
    service.close()


def test_vacation_round_trip_with_string_times(emu: RunningEmulator, gmail: Any) -> None:
    assert gmail.users().settings().getVacation(userId="me").execute() == {
        "enableAutoReply": False}
    body = {"enableAutoReply": True, "responseSubject": "Out of office",
            "responseBodyPlainText": "Back on Monday.", "restrictToDomain": True,
            "startTime": 1725500400000, "endTime": "1726105200000"}
    saved = gmail.users().settings().updateVacation(userId="me", body=body).execute()
    assert saved["startTime"] == "1725500400000" and saved["endTime"] == "1726105200000"
    assert gmail.users().settings().getVacation(userId=ALICE).execute() == saved
    emu.state.set_vacation(ALICE, {"enableAutoReply": False})
    assert gmail.users().settings().getVacation(userId="me").execute() == {
        "enableAutoReply": False}


def test_vacation_errors(emu: RunningEmulator, gmail: Any) -> None:
    with pytest.raises(HttpError) as info:
        gmail.users().settings().getVacation(userId=BOB).execute()
    assert info.value.status_code == 403
    emu.state.users[ALICE].has_mailbox = False
    with pytest.raises(HttpError) as info:
        gmail.users().settings().getVacation(userId="me").execute()
    assert info.value.status_code == 400
    assert info.value.error_details[0]["reason"] == "failedPrecondition"


def test_update_vacation_needs_settings_scope(emu: RunningEmulator) -> None:
    creds = emu.credentials(ALICE, ["https://www.googleapis.com/auth/gmail.readonly"])
    service = build("gmail", "v1", credentials=creds,
                    client_options={"api_endpoint": emu.base_url + "/"},
                    static_discovery=True, cache_discovery=False)
    try:
        service.users().settings().getVacation(userId="me").execute()
        with pytest.raises(HttpError) as info:
            service.users().settings().updateVacation(userId="me", body={}).execute()
        assert info.value.status_code == 403
    finally:
        service.close()


def test_settings_get(emu: RunningEmulator, cal: Any) -> None:
    locale = cal.settings().get(setting="locale").execute()
    assert {k: locale[k] for k in ("kind", "id", "value")} == {
        "kind": "calendar#setting", "id": "locale", "value": "en"}
    emu.state.set_setting(ALICE, "locale", "de")
    emu.state.set_setting(ALICE, "timezone", "Europe/Berlin")
    assert cal.settings().get(setting="locale").execute()["value"] == "de"
    assert cal.settings().get(setting="timezone").execute()["value"] == "Europe/Berlin"
    with pytest.raises(HttpError) as info:
        cal.settings().get(setting="nope").execute()
    assert info.value.status_code == 404


def test_acl_insert_list_delete(cal: Any) -> None:
    rule = cal.acl().insert(calendarId="primary", sendNotifications=False, body={
        "role": "reader", "scope": {"type": "user", "value": "gw@example.com"}}).execute()
    assert rule["id"] == "user:gw@example.com" and rule["kind"] == "calendar#aclRule"
    assert rule["scope"] == {"type": "user", "value": "gw@example.com"}
    ids = [r["id"] for r in cal.acl().list(calendarId="primary").execute()["items"]]
    assert ids == [f"user:{ALICE}", "user:gw@example.com"]
    assert cal.acl().delete(calendarId="primary", ruleId=rule["id"]).execute() == ""
    with pytest.raises(HttpError) as info:
        cal.acl().delete(calendarId="primary", ruleId=rule["id"]).execute()
    assert info.value.status_code == 404
    with pytest.raises(HttpError) as info:
        cal.acl().insert(calendarId="primary", body={"role": "reader"}).execute()
    assert info.value.status_code == 400


def test_free_busy(emu: RunningEmulator, cal: Any, make_service: Callable[..., Any]) -> None:
    emu.state.insert_event(ALICE, timed("a", "2024-01-01T09:00:00Z", "2024-01-01T10:00:00Z"))
    emu.state.insert_event(ALICE, timed("b", "2024-01-01T09:30:00Z", "2024-01-01T11:00:00Z"))
    emu.state.insert_event(ALICE, timed("free", "2024-01-01T12:00:00Z", "2024-01-01T13:00:00Z",
                                        transparency="transparent"))
    gone = emu.state.insert_event(ALICE, timed("gone", "2024-01-01T14:00:00Z",
                                               "2024-01-01T15:00:00Z"))
    emu.state.delete_event(ALICE, gone["id"])
    answer = cal.freebusy().query(body={
        "timeMin": "2024-01-01T00:00:00Z", "timeMax": "2024-01-02T00:00:00Z",
        "items": [{"id": ALICE}, {"id": "nobody@example.com"}, {"id": CAROL}]}).execute()
    assert answer["kind"] == "calendar#freeBusy"
    assert answer["calendars"][ALICE] == {"busy": [{"start": "2024-01-01T09:00:00Z",
                                                    "end": "2024-01-01T11:00:00Z"}]}
    assert answer["calendars"]["nobody@example.com"] == {
        "errors": [{"domain": "global", "reason": "notFound"}], "busy": []}
    # carol's calendar is not shared with alice
    assert answer["calendars"][CAROL]["errors"][0]["reason"] == "notFound"
    make_service(CAROL).acl().insert(calendarId="primary", body={
        "role": "freeBusyReader", "scope": {"type": "domain", "value": "example.com"}}
    ).execute()
    again = cal.freebusy().query(body={
        "timeMin": "2024-01-01T00:00:00Z", "timeMax": "2024-01-02T00:00:00Z",
        "items": [{"id": CAROL}]}).execute()
    assert again["calendars"][CAROL] == {"busy": []}


def test_quick_add(emu: RunningEmulator, cal: Any) -> None:
    emu.state.set_setting(ALICE, "timezone", "Europe/Berlin")
    event = cal.events().quickAdd(calendarId="primary",
                                  text="Lunch with Bob tomorrow at 12:30 at Cafe Rosa").execute()
    tomorrow = (dt.datetime.now(ZoneInfo("Europe/Berlin")) + dt.timedelta(days=1)).date()
    assert event["summary"] == "Lunch with Bob"
    assert event["location"] == "Cafe Rosa"
    assert event["start"]["dateTime"].startswith(f"{tomorrow.isoformat()}T12:30:00")
    assert event["start"]["timeZone"] == "Europe/Berlin"
    all_day = cal.events().quickAdd(calendarId="primary", text="Holiday 2026-12-24").execute()
    assert all_day["start"] == {"date": "2026-12-24"} and all_day["summary"] == "Holiday"
    with pytest.raises(HttpError):
        cal.events().quickAdd(calendarId="primary", text="").execute()


def test_calendar_get_and_list(cal: Any) -> None:
    assert cal.calendars().get(calendarId="primary").execute()["id"] == ALICE
    entries = cal.calendarList().list().execute()["items"]
    assert [(e["id"], e["accessRole"], e["primary"]) for e in entries] == [
        (ALICE, "owner", True)]


def test_unimplemented_method_is_501(cal: Any) -> None:
    with pytest.raises(HttpError) as info:
        cal.colors().get().execute()
    assert info.value.status_code == 501
