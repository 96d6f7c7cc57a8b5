"""events insert/get/patch/update/delete through google-api-python-client."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest
from googleapiclient.errors import HttpError

from hybrid_calendar_google_emulator.testing import RunningEmulator
from tests.google_emulator.helpers import ALICE, BOB, timed

START, END = "2026-12-01T10:00:00+01:00", "2026-12-01T11:00:00+01:00"


def error_of(err: HttpError) -> dict[str, Any]:
    """The parsed Google error body of an HttpError."""
    import json

    return dict(json.loads(err.content)["error"])


def test_insert_assigns_google_fields(cal: Any) -> None:
    event = cal.events().insert(calendarId="primary", body=timed("Intro", START, END)).execute()
    assert event["kind"] == "calendar#event"
    assert event["status"] == "confirmed"
    assert event["etag"].startswith('"') and event["etag"][1:-1].isdigit()
    assert event["iCalUID"] == event["id"] + "@google.com"
    assert event["organizer"] == {"email": ALICE, "self": True}
    assert event["creator"] == {"email": ALICE, "self": True}
    assert event["sequence"] == 0
    assert event["created"].endswith("Z") and event["updated"].endswith("Z")
    assert set(event["id"]) <= set("0123456789abcdefghijklmnopqrstuv")
    got = cal.events().get(calendarId=ALICE, eventId=event["id"]).execute()
    assert got == event


def test_insert_requires_end_and_rejects_inverted_range(cal: Any) -> None:
    with pytest.raises(HttpError) as info:
        cal.events().insert(calendarId="primary",
                            body={"summary": "x", "start": {"dateTime": START}}).execute()
    assert info.value.status_code == 400
    assert error_of(info.value)["errors"][0]["reason"] == "required"
    with pytest.raises(HttpError) as info:
        cal.events().insert(calendarId="primary", body=timed("x", END, START)).execute()
    assert error_of(info.value)["errors"][0]["reason"] == "timeRangeEmpty"


def test_client_id_and_duplicate(cal: Any) -> None:
    body = timed("x", START, END, id="abcdef12345")
    assert cal.events().insert(calendarId="primary", body=body).execute()["id"] == "abcdef12345"
    with pytest.raises(HttpError) as info:
        cal.events().insert(calendarId="primary", body=body).execute()
    assert info.value.status_code == 409
    assert error_of(info.value)["errors"][0]["reason"] == "duplicate"
    with pytest.raises(HttpError) as info:
        cal.events().insert(calendarId="primary", body=timed("x", START, END, id="XYZ!")
                            ).execute()
    assert info.value.status_code == 400


def test_get_unknown_is_404_with_google_body(cal: Any) -> None:
    with pytest.raises(HttpError) as info:
        cal.events().get(calendarId="primary", eventId="nosuchevent").execute()
    error = error_of(info.value)
    assert error["code"] == 404 and error["status"] == "NOT_FOUND"
    assert error["errors"] == [{"domain": "global", "reason": "notFound",
                                "message": "Not Found"}]


def test_patch_semantics_etag_sequence(cal: Any) -> None:
    event = cal.events().insert(calendarId="primary", body=timed(
        "Intro", START, END, location="Room 1",
        attendees=[{"email": BOB}, {"email": "x@partner.example"}],
        extendedProperties={"private": {"a": "1", "b": "2"}, "shared": {"s": "1"}},
    )).execute()
    patched = cal.events().patch(calendarId="primary", eventId=event["id"], body={
        "description": "agenda", "attendees": [{"email": BOB, "responseStatus": "accepted"}],
        "extendedProperties": {"private": {"b": None, "c": "3"}},
    }).execute()
    assert patched["summary"] == "Intro"  # omitted: untouched
    assert patched["description"] == "agenda"
    assert patched["attendees"] == [{"email": BOB, "responseStatus": "accepted"}]  # replaced
    assert patched["extendedProperties"] == {"private": {"a": "1", "c": "3"},
                                             "shared": {"s": "1"}}
    assert patched["etag"] != event["etag"] and patched["updated"] > event["updated"]
    assert patched["sequence"] == 0  # description is not a significant change
    moved = cal.events().patch(calendarId="primary", eventId=event["id"], body={
        "start": {"dateTime": "2026-12-01T12:00:00+01:00"},
        "end": {"dateTime": "2026-12-01T13:00:00+01:00"}}).execute()
    assert moved["sequence"] == 1


def test_visibility_is_kept_on_insert_patch_and_list(cal: Any) -> None:
    """``visibility`` is the organiser's: stored as given, changed by a patch, listed
    (the gateway keeps private events' titles off room panels)."""
    event = cal.events().insert(calendarId="primary", body=timed(
        "Review", START, END, visibility="private")).execute()
    assert event["visibility"] == "private"

    def listed() -> Any:
        items = cal.events().list(calendarId="primary").execute()["items"]
        [item] = [i for i in items if i["id"] == event["id"]]
        return item.get("visibility")

    assert listed() == "private"
    patched = cal.events().patch(calendarId="primary", eventId=event["id"],
                                 body={"visibility": "confidential"}).execute()
    assert patched["visibility"] == "confidential" and listed() == "confidential"
    cal.events().patch(calendarId="primary", eventId=event["id"],
                       body={"summary": "Review 2"}).execute()
    assert listed() == "confidential"  # another field's patch leaves it
    cal.events().patch(calendarId="primary", eventId=event["id"],
                       body={"visibility": "public"}).execute()
    assert listed() == "public"


def test_if_match(emu: RunningEmulator, cal: Any) -> None:
    event = cal.events().insert(calendarId="primary", body=timed("x", START, END)).execute()
    request = cal.events().patch(calendarId="primary", eventId=event["id"],
                                 body={"summary": "y"})
    request.headers["If-Match"] = '"1"'
    with pytest.raises(HttpError) as info:
        request.execute()
    assert info.value.status_code == 412
    assert error_of(info.value)["errors"][0]["reason"] == "conditionNotMet"
    request = cal.events().patch(calendarId="primary", eventId=event["id"],
                                 body={"summary": "y"})
    request.headers["If-Match"] = event["etag"]
    assert request.execute()["summary"] == "y"
    stale = cal.events().delete(calendarId="primary", eventId=event["id"])
    stale.headers["If-Match"] = event["etag"]
    with pytest.raises(HttpError) as info:
        stale.execute()
    assert info.value.status_code == 412


def test_update_replaces_whole_event(cal: Any) -> None:
    event = cal.events().insert(calendarId="primary",
                                body=timed("x", START, END, location="Room")).execute()
    updated = cal.events().update(calendarId="primary", eventId=event["id"],
                                  body=timed("only", START, END)).execute()
    assert "location" not in updated and updated["summary"] == "only"
    assert updated["id"] == event["id"] and updated["created"] == event["created"]


def test_delete_then_get_cancelled_then_410(cal: Any) -> None:
    event = cal.events().insert(calendarId="primary", body=timed("x", START, END)).execute()
    assert cal.events().delete(calendarId="primary", eventId=event["id"]).execute() == ""
    assert cal.events().get(calendarId="primary", eventId=event["id"]
                            ).execute()["status"] == "cancelled"
    with pytest.raises(HttpError) as info:
        cal.events().delete(calendarId="primary", eventId=event["id"]).execute()
    assert info.value.status_code == 410
    assert error_of(info.value)["errors"][0]["reason"] == "deleted"


def test_conference_data_needs_version(cal: Any) -> None:
    create = {"createRequest": {"requestId": "req-1",
                                "conferenceSolutionKey": {"type": "hangoutsMeet"}}}
    plain = cal.events().insert(calendarId="primary",
                                body=timed("x", START, END, conferenceData=create)).execute()
    assert "conferenceData" not in plain
    meet = cal.events().insert(calendarId="primary", conferenceDataVersion=1,
                               body=timed("x", START, END, conferenceData=create)).execute()
    data = meet["conferenceData"]
    assert data["createRequest"]["status"]["statusCode"] == "success"
    assert data["conferenceSolution"]["key"]["type"] == "hangoutsMeet"
    assert meet["hangoutLink"] == data["entryPoints"][0]["uri"]
    again = cal.events().patch(calendarId="primary", eventId=meet["id"],
                               conferenceDataVersion=1, body={"conferenceData": create}
                               ).execute()
    assert again["conferenceData"]["conferenceId"] == data["conferenceId"]  # same requestId


def test_attendee_response_with_attendees_omitted(cal: Any) -> None:
    event = cal.events().insert(calendarId="primary", body=timed(
        "x", START, END, attendees=[{"email": ALICE}, {"email": BOB}])).execute()
    assert event["attendees"][0] == {"email": ALICE, "responseStatus": "needsAction",
                                     "organizer": True, "self": True}
    patched = cal.events().patch(calendarId="primary", eventId=event["id"], body={
        "attendeesOmitted": True,
        "attendees": [{"email": ALICE, "responseStatus": "accepted"}]}).execute()
    statuses = {a["email"]: a["responseStatus"] for a in patched["attendees"]}
    assert statuses == {ALICE: "accepted", BOB: "needsAction"}


def test_max_attendees_keeps_only_the_participant(cal: Any) -> None:
    event = cal.events().insert(calendarId="primary", body=timed(
        "x", START, END, attendees=[{"email": BOB}, {"email": ALICE}])).execute()
    trimmed = cal.events().list(calendarId="primary", maxAttendees=1).execute()["items"]
    assert [(e["id"], e["attendees"], e["attendeesOmitted"]) for e in trimmed] == [
        (event["id"], [{"email": ALICE, "responseStatus": "needsAction", "organizer": True,
                        "self": True}], True)]
    full = cal.events().list(calendarId="primary", maxAttendees=2).execute()["items"]
    assert [a["email"] for a in full[0]["attendees"]] == [BOB, ALICE]
    assert "attendeesOmitted" not in full[0]


def test_other_users_calendar_needs_acl(emu: RunningEmulator, cal: Any,
                                        make_service: Callable[..., Any]) -> None:
    bob = make_service(BOB)
    with pytest.raises(HttpError) as info:
        bob.events().list(calendarId=ALICE).execute()
    assert info.value.status_code == 404
    cal.acl().insert(calendarId="primary",
                     body={"role": "reader", "scope": {"type": "user", "value": BOB}}).execute()
    assert bob.events().list(calendarId=ALICE).execute()["accessRole"] == "reader"
    with pytest.raises(HttpError) as info:
        bob.events().insert(calendarId=ALICE, body=timed("x", START, END)).execute()
    assert info.value.status_code == 403


def test_state_api_behaves_like_the_api(emu: RunningEmulator, cal: Any) -> None:
    event = emu.state.insert_event(ALICE, timed("seeded", START, END))
    assert cal.events().get(calendarId="primary", eventId=event["id"]).execute() == event
    edited = emu.state.patch_event(ALICE, event["id"], {"summary": "edited"})
    assert edited["etag"] != event["etag"]
    emu.state.delete_event(ALICE, event["id"])
    assert cal.events().get(calendarId="primary", eventId=event["id"]
                            ).execute()["status"] == "cancelled"


def test_fields_partial_response(emu: RunningEmulator, cal: Any) -> None:
    cal.events().insert(calendarId="primary", body=timed(
        "x", START, END, attendees=[{"email": BOB, "displayName": "Bob"}])).execute()
    page = cal.events().list(calendarId="primary",
                             fields="kind,nextSyncToken,items(id,start/dateTime,attendees(email))"
                             ).execute()
    assert set(page) == {"kind", "nextSyncToken", "items"}
    item = page["items"][0]
    assert set(item) == {"id", "start", "attendees"}
    assert item["start"] == {"dateTime": "2026-12-01T09:00:00Z"}  # calendar zone: Etc/GMT
    assert item["attendees"] == [{"email": BOB}]
    response = httpx.get(emu.base_url + "/calendar/v3/calendars/primary/events",
                         params={"fields": "items(id"},
                         headers={"Authorization": "Bearer " + emu_token(emu)})
    assert response.status_code == 400


def emu_token(emu: RunningEmulator) -> str:
    """A fresh access token for Alice (via the real google-auth flow)."""
    import httplib2
    from google_auth_httplib2 import Request

    http = httplib2.Http()
    try:
        creds = emu.credentials(ALICE)
        creds.refresh(Request(http))
        return str(creds.token)
    finally:
        http.close()


def test_times_rendered_in_calendar_or_requested_zone(emu: RunningEmulator, cal: Any) -> None:
    event = cal.events().insert(calendarId="primary", body={
        "summary": "x", "start": {"dateTime": "2026-12-01T10:00:00+01:00"},
        "end": {"dateTime": "2026-12-01T11:00:00", "timeZone": "Europe/Berlin"}}).execute()
    assert event["start"] == {"dateTime": "2026-12-01T09:00:00Z"}
    assert event["end"] == {"dateTime": "2026-12-01T10:00:00Z", "timeZone": "Europe/Berlin"}
    tokyo = cal.events().get(calendarId="primary", eventId=event["id"],
                             timeZone="Asia/Tokyo").execute()
    assert tokyo["start"]["dateTime"] == "2026-12-01T18:00:00+09:00"
    emu.state.set_setting(ALICE, "timezone", "America/New_York")
    listed = cal.events().list(calendarId="primary").execute()
    assert listed["timeZone"] == "America/New_York"
    assert listed["items"][0]["start"]["dateTime"] == "2026-12-01T04:00:00-05:00"


def test_import_and_move(emu: RunningEmulator, cal: Any,
                         make_service: Callable[..., Any]) -> None:
    with pytest.raises(HttpError) as info:
        cal.events().import_(calendarId="primary", body=timed("x", START, END)).execute()
    assert info.value.status_code == 400
    imported = cal.events().import_(calendarId="primary", body=timed(
        "x", START, END, iCalUID="abc@partner.example")).execute()
    assert imported["iCalUID"] == "abc@partner.example"
    make_service(BOB).acl().insert(calendarId="primary", body={
        "role": "writer", "scope": {"type": "user", "value": ALICE}}).execute()
    moved = cal.events().move(calendarId="primary", eventId=imported["id"],
                              destination=BOB).execute()
    assert moved["organizer"]["email"] == BOB and moved["id"] == imported["id"]
    assert cal.events().get(calendarId="primary", eventId=imported["id"]
                            ).execute()["status"] == "cancelled"
    assert emu.state.get_event(BOB, imported["id"])["summary"] == "x"


def test_etag_header_and_if_none_match(emu: RunningEmulator, cal: Any) -> None:
    event = cal.events().insert(calendarId="primary", body=timed("x", START, END)).execute()
    headers = {"Authorization": "Bearer " + emu_token(emu)}
    url = f"{emu.base_url}/calendar/v3/calendars/primary/events/{event['id']}"
    first = httpx.get(url, headers=headers)
    assert first.headers["etag"] == event["etag"]
    cached = httpx.get(url, headers={**headers, "If-None-Match": event["etag"]})
    assert cached.status_code == 304 and cached.content == b""
    emu.state.patch_event(ALICE, event["id"], {"summary": "y"})
    assert httpx.get(url, headers={**headers, "If-None-Match": event["etag"]}
                     ).status_code == 200
