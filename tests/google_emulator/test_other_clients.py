"""Wire behaviour found by driving the emulator with gcal-sync and aiogoogle (issue #3).

Those libraries are not project dependencies; each test reproduces the request they send
with httpx or google-api-python-client and checks Google's documented answer.
"""

from __future__ import annotations

import gzip
import json
from typing import Any

import httpx
import pytest
from googleapiclient.errors import HttpError

from hybrid_calendar_google_emulator.testing import RunningEmulator
from tests.google_emulator.helpers import ALICE, BOB, timed
from tests.google_emulator.test_events import emu_token

START, END = "2026-12-01T09:00:00Z", "2026-12-01T10:00:00Z"

GCAL_SYNC_FIELDS = (
    "kind,nextPageToken,nextSyncToken,items(id,iCalUID,summary,start,end,description,"
    "location,transparency,status,eventType,visibility,attendees,attendeesOmitted,"
    "recurrence,recurringEventId,originalStartTime,reminders)")
"""The ``fields`` gcal-sync 8.0.0 sends on every events.list."""

AIOGOOGLE_HEADERS = {"Accept-Encoding": "gzip", "User-Agent": "Aiogoogle Aiohttp (gzip)"}


@pytest.fixture
def api(emu: RunningEmulator) -> Any:
    """An httpx client on the Calendar root with Alice's bearer token (no gzip asked)."""
    with httpx.Client(base_url=emu.base_url + "/calendar/v3",
                      headers={"Authorization": "Bearer " + emu_token(emu)}) as client:
        yield client


def _error(response: httpx.Response) -> tuple[int, str, str]:
    error = response.json()["error"]
    return error["code"], error["errors"][0]["reason"], error["message"]


def test_gcal_sync_field_selection_is_accepted(emu: RunningEmulator, api: httpx.Client) -> None:
    emu.state.insert_event(ALICE, timed("x", START, END))
    response = api.get("/calendars/alice%40example.com/events",
                       params={"maxResults": "1000", "fields": GCAL_SYNC_FIELDS})
    assert response.status_code == 200
    page = response.json()
    assert set(page) == {"kind", "nextSyncToken", "items"}
    assert set(page["items"][0]) <= set(GCAL_SYNC_FIELDS.split("(", 1)[1].rstrip(")")
                                        .split(","))


@pytest.mark.parametrize(("fields", "named"), [
    ("pagetoken,items(id)", "pagetoken"),       # Google: "Invalid field selection pagetoken"
    ("Items", "Items"),                          # names are case-sensitive
    ("items(id,bogus)", "bogus"),
    ("items/start/when", "when"),
    ("items(summary/length)", "length"),         # sub-selection of a scalar
])
def test_unknown_field_selection_is_400_naming_it(api: httpx.Client, fields: str,
                                                   named: str) -> None:
    response = api.get("/calendars/primary/events", params={"fields": fields})
    assert response.status_code == 400
    assert _error(response) == (400, "invalidParameter", f"Invalid field selection {named}")
    assert response.json()["error"]["errors"][0]["location"] == "fields"


def test_field_selection_follows_each_methods_schema(api: httpx.Client) -> None:
    # map-valued fields (freeBusy ``calendars``) take any key; Setting has ``value``
    busy = api.post("/freeBusy", params={"fields": "calendars/alice@example.com/busy,kind"},
                    json={"timeMin": "2026-12-01T00:00:00Z", "timeMax": "2026-12-02T00:00:00Z",
                          "items": [{"id": ALICE}]})
    assert busy.status_code == 200
    assert busy.json() == {"kind": "calendar#freeBusy",
                           "calendars": {ALICE: {"busy": []}}}
    assert api.get("/users/me/settings/locale", params={"fields": "value"}).json() == {
        "value": "en"}
    # ``items`` belongs to Events, not to Setting
    assert api.get("/users/me/settings/locale",
                   params={"fields": "items"}).status_code == 400


def test_bad_field_selection_fails_before_the_write(emu: RunningEmulator, cal: Any) -> None:
    with pytest.raises(HttpError) as caught:
        cal.events().insert(calendarId="primary", body=timed("x", START, END),
                            fields="id,nope").execute()
    assert caught.value.status_code == 400
    assert cal.events().list(calendarId="primary").execute()["items"] == []


def test_gzip_when_accept_encoding_and_user_agent_ask(emu: RunningEmulator,
                                                      api: httpx.Client) -> None:
    emu.state.insert_event(ALICE, timed("x", START, END))
    # read the raw bytes: httpx would transparently decode the body
    raw = httpx.Client(headers={"Authorization": api.headers["Authorization"],
                                **AIOGOOGLE_HEADERS})
    with raw, raw.stream("GET", emu.calendar_endpoint + "calendars/primary/events") as streamed:
        encoded = b"".join(streamed.iter_raw())
        assert streamed.headers["content-encoding"] == "gzip"
        assert streamed.headers["vary"] == "Accept-Encoding"
    decoded = json.loads(gzip.decompress(encoded))
    assert decoded["items"] == api.get("/calendars/primary/events").json()["items"]
    # the performance guide's rule: no ``gzip`` in the user agent (or q=0) → identity
    for headers in ({"Accept-Encoding": "gzip", "User-Agent": "python-httpx"},
                    {"Accept-Encoding": "gzip;q=0, identity", "User-Agent": "x (gzip)"},
                    {"Accept-Encoding": "identity", "User-Agent": "x (gzip)"}):
        plain = api.get("/calendars/primary/events", headers=headers)
        assert "content-encoding" not in plain.headers
        assert plain.json()["items"][0]["summary"] == "x"


def test_google_api_python_client_gets_and_decodes_gzip(emu: RunningEmulator,
                                                        cal: Any) -> None:
    cal.events().insert(calendarId="primary", body=timed("x", START, END)).execute()
    assert cal.events().list(calendarId="primary").execute()["items"][0]["summary"] == "x"
    # errors are compressed too; the client still parses Google's error body
    with pytest.raises(HttpError) as caught:
        cal.events().get(calendarId="primary", eventId="nosuchevent").execute()
    assert caught.value.status_code == 404
    assert caught.value.reason == "Not Found"


def test_gzip_can_be_switched_off() -> None:
    from hybrid_calendar_google_emulator.testing import running_emulator

    with running_emulator(users=[ALICE], fresh_key=False, gzip_responses=False) as emu:
        response = httpx.get(emu.calendar_endpoint + "users/me/settings/locale",
                             headers={"Authorization": "Bearer " + emu_token(emu),
                                      **AIOGOOGLE_HEADERS})
        assert "content-encoding" not in response.headers
        assert response.json()["value"] == "en"


def test_error_bodies_follow_pretty_print(api: httpx.Client) -> None:
    default = api.get("/calendars/nobody%40example.com/events")
    compact = api.get("/calendars/nobody%40example.com/events",
                      params={"prettyPrint": "false"})
    assert default.status_code == compact.status_code == 404
    assert default.json() == compact.json()
    assert b"\n" in default.content          # Google's default: indented
    assert b"\n" not in compact.content and b": " not in compact.content


def test_cors_preflight_and_allow_origin_on_api_roots(emu: RunningEmulator,
                                                      api: httpx.Client) -> None:
    origin = "https://app.example.org"
    preflight = httpx.options(emu.calendar_endpoint + "calendars/primary/events", headers={
        "Origin": origin, "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization,content-type"})
    assert preflight.status_code == 200
    assert preflight.headers["access-control-allow-origin"] == origin
    assert "POST" in preflight.headers["access-control-allow-methods"].split(",")
    assert preflight.headers["access-control-allow-headers"] == "authorization,content-type"
    listed = api.get("/calendars/primary/events", headers={"Origin": origin})
    assert listed.status_code == 200
    assert listed.headers["access-control-allow-origin"] == origin
    denied = api.get("/calendars/nobody%40example.com/events", headers={"Origin": origin})
    assert denied.headers["access-control-allow-origin"] == origin   # errors readable too
    # same-origin requests carry no CORS headers; the emulator's control endpoint never does
    assert "access-control-allow-origin" not in api.get("/calendars/primary/events").headers
    control = httpx.options(emu.base_url + "/emulator/control", headers={
        "Origin": origin, "Access-Control-Request-Method": "POST"})
    assert "access-control-allow-origin" not in control.headers


def test_head_is_get_without_a_body(emu: RunningEmulator, api: httpx.Client) -> None:
    emu.state.insert_event(ALICE, timed("x", START, END))
    head = api.head("/users/me/settings/locale")
    get = api.get("/users/me/settings/locale")
    assert head.status_code == 200 and head.content == b""
    assert head.headers["etag"] == get.headers["etag"]
    assert head.headers["content-length"] == get.headers["content-length"]
    assert api.head("/calendars/nobody%40example.com/events").status_code == 404


def test_calendar_list_incremental_sync(emu: RunningEmulator, make_service: Any) -> None:
    """gcal-sync's CalendarListSyncManager: full list, then ``syncToken`` for changes only."""
    alice, bob = make_service(ALICE), make_service(BOB)
    full = alice.calendarList().list().execute()
    assert [e["id"] for e in full["items"]] == [ALICE] and "nextPageToken" not in full
    token = full["nextSyncToken"]
    assert alice.calendarList().list(syncToken=token).execute()["items"] == []
    rule = bob.acl().insert(calendarId="primary", body={
        "role": "reader", "scope": {"type": "user", "value": ALICE}}).execute()
    added = alice.calendarList().list(syncToken=token).execute()
    assert [(e["id"], e["accessRole"]) for e in added["items"]] == [(BOB, "reader")]
    bob.acl().delete(calendarId="primary", ruleId=rule["id"]).execute()
    removed = alice.calendarList().list(syncToken=added["nextSyncToken"]).execute()
    assert removed["items"] == [{"kind": "calendar#calendarListEntry",
                                 "etag": removed["items"][0]["etag"], "id": BOB,
                                 "deleted": True}]
    assert alice.calendarList().list(syncToken=removed["nextSyncToken"]
                                     ).execute()["items"] == []


def test_calendar_list_sync_errors_and_paging(emu: RunningEmulator, make_service: Any) -> None:
    alice, bob = make_service(ALICE), make_service(BOB)
    bob.acl().insert(calendarId="primary", body={
        "role": "writer", "scope": {"type": "user", "value": ALICE}}).execute()
    first = alice.calendarList().list(maxResults=1).execute()
    assert len(first["items"]) == 1 and "nextSyncToken" not in first
    second = alice.calendarList().list(maxResults=1, pageToken=first["nextPageToken"]).execute()
    assert {first["items"][0]["id"], second["items"][0]["id"]} == {ALICE, BOB}
    token = second["nextSyncToken"]
    owned = alice.calendarList().list(minAccessRole="owner").execute()["items"]
    assert [e["id"] for e in owned] == [ALICE]
    for bad in ({"syncToken": "garbage"}, {"syncToken": token[:-2] + "xx"}):
        with pytest.raises(HttpError) as caught:
            alice.calendarList().list(**bad).execute()
        assert caught.value.status_code == 410
        assert caught.value.error_details[0]["reason"] == "fullSyncRequired"
    with pytest.raises(HttpError) as caught:
        alice.calendarList().list(syncToken=token, minAccessRole="reader").execute()
    assert caught.value.status_code == 400
    emu.state.invalidate_sync_tokens(ALICE)
    with pytest.raises(HttpError) as caught:
        alice.calendarList().list(syncToken=token).execute()
    assert caught.value.status_code == 410
