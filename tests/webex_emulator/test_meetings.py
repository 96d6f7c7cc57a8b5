"""Meetings: create/get/list/update/delete with Webex's validation, through both clients."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest
import webexpythonsdk
from wxc_sdk.meetings import ScheduledType
from wxc_sdk.rest import RestError
from wxc_sdk.webhook import WebhookEventType, WebhookResource

from hybrid_calendar.clock import ManualClock
from hybrid_calendar_webex_emulator.testing import RunningWebexEmulator, running_webex_emulator
from tests.webex_emulator.helpers import ALICE, BOB, Receiver, extra, webexsdk, wxc

NOW = datetime(2026, 12, 1, 8, 0, 30, tzinfo=UTC)


@pytest.fixture
def clocked() -> Iterator[RunningWebexEmulator]:
    """An emulator whose clock stands at 2026-12-01 08:00:30 UTC."""
    with running_webex_emulator(users=[ALICE, BOB], clock=ManualClock(NOW)) as emu:
        yield emu


def _body(**extra: object) -> dict[str, object]:
    return {"title": "Design review", "start": "2026-12-01T10:00:00+01:00",
            "end": "2026-12-01T11:00:00+01:00", "timezone": "Europe/Berlin",
            "sendEmail": False, **extra}


def test_create_get_list_with_wxc(clocked: RunningWebexEmulator) -> None:
    api = wxc(clocked, clocked.admin_token)
    created = api.meetings.create(
        title="Design review", start="2026-12-01T10:00:00+01:00",
        end="2026-12-01T11:00:00+01:00", timezone="Europe/Berlin", host_email=ALICE,
        integration_tags=["gcal:abc"], send_email=False)
    assert created.host_email == ALICE and created.meeting_type == "meetingSeries"
    assert created.start == "2026-12-01T10:00:00+01:00"
    assert created.meeting_number and created.web_link is not None
    assert created.web_link.startswith("https://example.webex.com/")
    assert created.sip_address == f"{created.meeting_number}@example.webex.com"
    assert created.password and created.telephony is not None
    assert created.telephony.access_code == created.meeting_number
    assert created.id is not None
    assert api.meetings.get(created.id, host_email=ALICE).title == "Design review"
    found = list(api.meetings.list(integration_tag="gcal:abc", host_email=ALICE,
                                   from_="2026-12-01T00:00:00Z", to_="2026-12-02T00:00:00Z"))
    assert [m.id for m in found] == [created.id]
    assert not list(api.meetings.list(integration_tag="gcal:other", host_email=ALICE,
                                      from_="2026-12-01T00:00:00Z"))
    # Alice, not an admin, sees her own meeting without hostEmail
    assert [m.id for m in wxc(clocked, clocked.token(ALICE)).meetings.list(
        from_="2026-12-01T00:00:00Z")] == [created.id]


def test_create_update_delete_with_webexpythonsdk(clocked: RunningWebexEmulator) -> None:
    sdk = webexsdk(clocked, clocked.token(ALICE))
    meeting = sdk.meetings.create(title="Standup", start="2026-12-01T09:00:00Z",
                                  end="2026-12-01T09:30:00Z", sendEmail=False)
    updated = sdk.meetings.update(meeting.id, title="Standup 2", password=meeting.password,
                                  start="2026-12-01T09:00:00Z", end="2026-12-01T09:45:00Z")
    assert updated.title == "Standup 2" and updated.end == "2026-12-01T09:45:00Z"
    sdk.meetings.delete(meeting.id)
    with pytest.raises(webexpythonsdk.ApiError) as caught:
        sdk.meetings.get(meeting.id)
    assert caught.value.status_code == 404


@pytest.mark.parametrize(("change", "message"), [
    ({"start": "2026-12-01T07:59:00Z", "end": "2026-12-01T09:00:00Z"}, "before current"),
    ({"start": "2026-12-01T09:00:00Z", "end": "2026-12-01T09:05:00Z"}, "at least 10 minutes"),
    ({"start": "2026-12-01T09:00:00Z", "end": "2026-12-02T09:01:00Z"}, "exceed 24 hours"),
    ({"start": "2026-12-01T10:00:00Z", "end": "2026-12-01T09:00:00Z"}, "before or equal"),
    ({"title": "x" * 129}, "title"),
    ({"agenda": "x" * 1301}, "agenda"),
    ({"integrationTags": ["a", "b", "c", "d"]}, "integrationTags"),
    ({"timezone": "Mars/Olympus"}, "timezone"),
    ({"scheduledType": "personalRoomMeeting", "integrationTags": ["a"]}, "integrationTags"),
    ({"recurrence": "FREQ=SOMETIMES"}, "recurrence"),
])
def test_validation_errors(clocked: RunningWebexEmulator, http_clocked: httpx.Client,
                           change: dict[str, object], message: str) -> None:
    answer = http_clocked.post("/v1/meetings", json=_body(**change),
                               headers={"Authorization": f"Bearer {clocked.token(ALICE)}"})
    assert answer.status_code == 400
    assert message in answer.json()["message"]
    assert not clocked.state.meetings


@pytest.fixture
def http_clocked(clocked: RunningWebexEmulator) -> Iterator[httpx.Client]:
    """httpx on the clocked emulator."""
    with httpx.Client(base_url=clocked.base_url) as client:
        yield client


def test_start_inside_current_minute_moves_to_next_minute(clocked: RunningWebexEmulator,
                                                         http_clocked: httpx.Client) -> None:
    answer = http_clocked.post(
        "/v1/meetings", json=_body(start="2026-12-01T08:00:10Z", end="2026-12-01T09:00:00Z",
                                   timezone="UTC"),
        headers={"Authorization": f"Bearer {clocked.token(ALICE)}"})
    assert answer.status_code == 200
    assert answer.json()["start"] == "2026-12-01T08:01:00Z"


def test_host_email_needs_admin_scopes(clocked: RunningWebexEmulator) -> None:
    alice = wxc(clocked, clocked.token(ALICE))
    created = alice.meetings.create(
        title="t", start="2026-12-01T09:00:00Z", end="2026-12-01T10:00:00Z",
        host_email=BOB)
    assert created.host_email == ALICE  # ignored without admin scopes, as documented
    with running_webex_emulator(users=[ALICE, BOB], clock=ManualClock(NOW),
                                host_email_without_admin="forbid") as strict:
        with pytest.raises(RestError) as caught:
            wxc(strict, strict.token(ALICE)).meetings.create(
                title="t", start="2026-12-01T09:00:00Z", end="2026-12-01T10:00:00Z",
                host_email=BOB)
        assert caught.value.response.status_code == 403


def test_personal_room_and_personal_room_meeting(clocked: RunningWebexEmulator) -> None:
    api = wxc(clocked, clocked.admin_token)
    room = api.meetings.preferences.personal_meeting_room_options(user_email=BOB)
    assert room.personal_meeting_room_link == "https://example.webex.com/meet/bob"
    assert room.sip_address == "bob@example.webex.com" and room.host_pin
    meeting = api.meetings.create(
        title="PMR", start="2026-12-01T09:00:00Z", end="2026-12-01T10:00:00Z",
        host_email=BOB, scheduled_type=ScheduledType("personalRoomMeeting"))
    assert meeting.web_link == room.personal_meeting_room_link
    assert meeting.sip_address == room.sip_address
    # userEmail needs admin scopes: Alice gets her own room
    own = wxc(clocked, clocked.token(ALICE)).meetings.preferences.personal_meeting_room_options(
        user_email=BOB)
    assert own.personal_meeting_room_link is not None
    assert own.personal_meeting_room_link.endswith("/meet/alice")


def test_series_occurrences_and_cancelling_one(clocked: RunningWebexEmulator) -> None:
    api = wxc(clocked, clocked.token(ALICE))
    series = api.meetings.create(
        title="Daily", start="2026-12-01T09:00:00Z", end="2026-12-01T09:15:00Z",
        timezone="UTC", recurrence="FREQ=DAILY;COUNT=5")
    assert series.id is not None
    listed = list(api.meetings.list(meeting_type="scheduledMeeting",
                                    from_="2026-12-01T00:00:00Z", to_="2026-12-10T00:00:00Z"))
    assert [m.id for m in listed] == [f"{series.id}_202612{d:02d}T090000Z" for d in range(1, 6)]
    assert all(extra(m, "meetingSeriesId") == series.id for m in listed)
    assert listed[1].id is not None and listed[2].id is not None
    api.meetings.delete(listed[1].id)
    remaining = list(api.meetings.list_of_series(series.id, from_="2026-12-01T00:00:00Z",
                                                 to_="2026-12-10T00:00:00Z"))
    assert len(remaining) == 4 and listed[1].id not in {m.id for m in remaining}
    assert api.meetings.get(listed[2].id).start == "2026-12-03T09:00:00Z"


def test_patch_changes_only_given_fields_and_webhooks_fire(
        clocked: RunningWebexEmulator, receiver: Receiver, http_clocked: httpx.Client) -> None:
    token = clocked.token(ALICE)
    headers = {"Authorization": f"Bearer {token}"}
    http_clocked.post("/v1/webhooks", headers=headers, json={
        "name": "m", "targetUrl": receiver.url, "resource": "meetings", "event": "all"})
    created = http_clocked.post("/v1/meetings", headers=headers,
                                json=_body(integrationTags=["gcal:1"])).json()
    patched = http_clocked.patch(f"/v1/meetings/{created['id']}", headers=headers,
                                 json={"agenda": "new agenda"}).json()
    assert patched["agenda"] == "new agenda" and patched["title"] == "Design review"
    assert patched["integrationTags"] == ["gcal:1"] and patched["start"] == created["start"]
    assert http_clocked.delete(f"/v1/meetings/{created['id']}",
                               headers=headers).status_code == 204
    events = [r["body"]["event"] for r in receiver.wait_for(3)]
    assert events == ["created", "updated", "deleted"]


def test_list_filters_exclusive_and_meeting_number(clocked: RunningWebexEmulator,
                                                    http_clocked: httpx.Client) -> None:
    headers = {"Authorization": f"Bearer {clocked.token(ALICE)}"}
    created = http_clocked.post("/v1/meetings", headers=headers, json=_body()).json()
    by_number = http_clocked.get("/v1/meetings", headers=headers,
                                 params={"meetingNumber": created["meetingNumber"]}).json()
    assert [m["id"] for m in by_number["items"]] == [created["id"]]
    by_link = http_clocked.get("/v1/meetings", headers=headers,
                               params={"webLink": created["webLink"]}).json()
    assert [m["id"] for m in by_link["items"]] == [created["id"]]
    both = http_clocked.get("/v1/meetings", headers=headers, params={
        "meetingNumber": created["meetingNumber"], "webLink": created["webLink"]})
    assert both.status_code == 400
    assert http_clocked.get("/v1/meetings", headers=headers,
                            params={"state": "expired"}).json()["items"] == []


def test_send_email_recorded(clocked: RunningWebexEmulator, http_clocked: httpx.Client) -> None:
    headers = {"Authorization": f"Bearer {clocked.token(ALICE)}"}
    http_clocked.post("/v1/meetings", headers=headers, json=_body(
        sendEmail=True, invitees=[{"email": BOB}]))
    http_clocked.post("/v1/meetings", headers=headers, json=_body(
        sendEmail=False, invitees=[{"email": BOB}]))
    assert [e["to"] for e in clocked.state.sent_emails] == [BOB]


def test_old_meeting_is_expired(clocked: RunningWebexEmulator) -> None:
    api = wxc(clocked, clocked.token(ALICE))
    meeting = api.meetings.create(
        title="t", start="2026-12-01T09:00:00Z", end="2026-12-01T10:00:00Z")
    assert meeting.id is not None
    assert api.meetings.get(meeting.id).state == "active"
    assert isinstance(clocked.state.clock, ManualClock)
    clocked.state.clock.advance(timedelta(days=1))
    assert api.meetings.get(meeting.id).state == "expired"


def test_updating_one_scheduled_meeting_keeps_its_id_and_moves_it(
        clocked: RunningWebexEmulator, receiver: Receiver) -> None:
    api = wxc(clocked, clocked.token(ALICE))
    api.webhook.create(name="m", target_url=receiver.url,
                       resource=WebhookResource("meetings"),
                       event=WebhookEventType("updated"))
    series = api.meetings.create(title="Daily", start="2026-12-01T09:00:00Z",
                                 end="2026-12-01T09:15:00Z", timezone="UTC",
                                 recurrence="FREQ=DAILY;COUNT=5")
    assert series.id is not None
    third = f"{series.id}_20261203T090000Z"
    moved = api.meetings.patch(third, start="2026-12-03T14:00:00Z", end="2026-12-03T14:30:00Z",
                               title="Daily (moved)")
    assert moved.id == third and moved.title == "Daily (moved)"
    assert extra(moved, "isModified") is True
    afternoon = list(api.meetings.list(meeting_type="scheduledMeeting",
                                       from_="2026-12-03T12:00:00Z",
                                       to_="2026-12-03T18:00:00Z"))
    assert [(m.id, m.start) for m in afternoon] == [(third, "2026-12-03T14:00:00Z")]
    modified = list(api.meetings.list_of_series(series.id, from_="2026-12-01T00:00:00Z",
                                                to_="2026-12-10T00:00:00Z", is_modified=True))
    assert [m.id for m in modified] == [third]
    assert api.meetings.get(series.id).title == "Daily"  # the series is unchanged
    hook = receiver.wait_for(1)[0]["body"]
    assert hook["data"]["id"] == third and hook["data"]["meetingType"] == "scheduledMeeting"


def test_list_window_defaults_as_documented(clocked: RunningWebexEmulator,
                                            http_clocked: httpx.Client) -> None:
    headers = {"Authorization": f"Bearer {clocked.token(ALICE)}"}
    for day in (2, 9, 20):
        http_clocked.post("/v1/meetings", headers=headers, json=_body(
            title=f"day {day}", start=f"2026-12-{day:02d}T09:00:00Z",
            end=f"2026-12-{day:02d}T10:00:00Z", timezone="UTC"))

    def titles(**params: str) -> list[str]:
        answer = http_clocked.get("/v1/meetings", headers=headers, params=params)
        return [m["title"] for m in answer.json()["items"]]

    assert titles() == ["day 2"]  # now .. now + 7 days
    assert titles(**{"from": "2026-12-08T00:00:00Z"}) == ["day 9"]  # from + 7 days
    assert titles(to="2026-12-21T00:00:00Z") == ["day 20"]  # to - 7 days
    assert http_clocked.get("/v1/meetings", headers=headers, params={
        "from": "2026-12-10T00:00:00Z", "to": "2026-12-09T00:00:00Z"}).status_code == 400


def test_ten_years_ahead_and_five_year_series_reach(clocked: RunningWebexEmulator,
                                                    http_clocked: httpx.Client) -> None:
    headers = {"Authorization": f"Bearer {clocked.token(ALICE)}"}
    far = http_clocked.post("/v1/meetings", headers=headers, json=_body(
        start="2036-12-02T09:00:00Z", end="2036-12-02T10:00:00Z"))
    assert far.status_code == 400 and "10 years" in far.json()["message"]
    series = http_clocked.post("/v1/meetings", headers=headers, json=_body(
        start="2026-12-02T09:00:00Z", end="2026-12-02T10:00:00Z", timezone="UTC",
        recurrence="FREQ=YEARLY")).json()
    listed = wxc(clocked, clocked.token(ALICE)).meetings.list_of_series(
        series["id"], from_="2026-12-01T00:00:00Z", to_="2035-01-01T00:00:00Z")
    assert [(m.start or "")[:4] for m in listed] == ["2026", "2027", "2028", "2029", "2030"]


def test_create_limits_count_failed_requests() -> None:
    clock = ManualClock(NOW)
    with running_webex_emulator(users=[ALICE], clock=clock) as emu, \
            httpx.Client(base_url=emu.api_base) as http:
        headers = {"Authorization": f"Bearer {emu.token(ALICE)}"}
        assert http.post("/meetings", headers=headers, json={"title": ""}).status_code == 400
        for _ in range(99):
            ok = http.post("/meetings", headers=headers, json=_body(timezone="UTC"))
            assert ok.status_code == 200
        limited = http.post("/meetings", headers=headers, json=_body(timezone="UTC"))
        assert limited.status_code == 429 and limited.content == b""
        assert limited.headers["retry-after"] == str(24 * 3600)
        clock.advance(timedelta(hours=24, seconds=1))
        assert http.post("/meetings", headers=headers,
                         json=_body(start="2026-12-02T10:00:00Z", end="2026-12-02T11:00:00Z",
                                    timezone="UTC")).status_code == 200
    with running_webex_emulator(users=[ALICE], clock=ManualClock(NOW),
                                meeting_create_limits=False) as free, \
            httpx.Client(base_url=free.api_base) as http:
        headers = {"Authorization": f"Bearer {free.token(ALICE)}"}
        for _ in range(101):
            assert http.post("/meetings", headers=headers,
                             json=_body(timezone="UTC")).status_code == 200


def test_moving_the_series_cancels_its_exceptional_meetings(
        clocked: RunningWebexEmulator) -> None:
    api = wxc(clocked, clocked.token(ALICE))
    series = api.meetings.create(title="Daily", start="2026-12-01T09:00:00Z",
                                 end="2026-12-01T09:15:00Z", timezone="UTC",
                                 recurrence="FREQ=DAILY;COUNT=3")
    assert series.id is not None
    api.meetings.patch(f"{series.id}_20261202T090000Z", title="Special")
    api.meetings.patch(series.id, title="Renamed")  # times unchanged: the exception stays
    titles = [m.title for m in api.meetings.list_of_series(
        series.id, from_="2026-12-01T00:00:00Z", to_="2026-12-05T00:00:00Z")]
    assert titles == ["Renamed", "Special", "Renamed"]
    api.meetings.patch(series.id, start="2026-12-01T10:00:00Z", end="2026-12-01T10:15:00Z")
    moved = list(api.meetings.list_of_series(series.id, from_="2026-12-01T00:00:00Z",
                                             to_="2026-12-05T00:00:00Z"))
    assert [m.start for m in moved] == ["2026-12-01T10:00:00Z", "2026-12-03T10:00:00Z"]
    assert all(m.title == "Renamed" for m in moved)


def test_patch_with_null_removes_agenda(clocked: RunningWebexEmulator,
                                        http_clocked: httpx.Client) -> None:
    headers = {"Authorization": f"Bearer {clocked.token(ALICE)}"}
    created = http_clocked.post("/v1/meetings", headers=headers,
                                json=_body(agenda="to be dropped")).json()
    patched = http_clocked.patch(f"/v1/meetings/{created['id']}", headers=headers,
                                 json={"agenda": None}).json()
    assert "agenda" not in patched and patched["title"] == created["title"]


def test_admin_reaches_another_hosts_meeting_only_with_host_email_when_strict(
        clocked: RunningWebexEmulator, http_clocked: httpx.Client) -> None:
    admin = {"Authorization": f"Bearer {clocked.admin_token}"}
    lenient = http_clocked.post("/v1/meetings", headers=admin,
                                json=_body(hostEmail=BOB)).json()
    assert http_clocked.get(f"/v1/meetings/{lenient['id']}", headers=admin).status_code == 200
    alice = {"Authorization": f"Bearer {clocked.token(ALICE)}"}
    assert http_clocked.get(f"/v1/meetings/{lenient['id']}", headers=alice).status_code == 404
    with running_webex_emulator(users=[ALICE, BOB], clock=ManualClock(NOW),
                                admin_needs_host_email=True) as strict, \
            httpx.Client(base_url=strict.base_url) as http:
        headers = {"Authorization": f"Bearer {strict.admin_token}"}
        created = http.post("/v1/meetings", headers=headers, json=_body(hostEmail=BOB)).json()
        url = f"/v1/meetings/{created['id']}"
        assert http.get(url, headers=headers).status_code == 404
        assert http.get(url, headers=headers, params={"hostEmail": BOB}).status_code == 200
        assert http.patch(url, headers=headers, json={"agenda": "a"}).status_code == 404
        assert http.patch(url, headers=headers,
                          json={"agenda": "a", "hostEmail": BOB}).status_code == 200
        assert http.delete(url, headers=headers, params={"hostEmail": BOB}).status_code == 204


def test_site_url_must_be_the_organisations(clocked: RunningWebexEmulator,
                                            http_clocked: httpx.Client) -> None:
    headers = {"Authorization": f"Bearer {clocked.token(ALICE)}"}
    ok = http_clocked.post("/v1/meetings", headers=headers,
                           json=_body(siteUrl="example.webex.com"))
    assert ok.status_code == 200 and ok.json()["siteUrl"] == "example.webex.com"
    wrong = http_clocked.post("/v1/meetings", headers=headers,
                              json=_body(siteUrl="other.webex.com"))
    assert wrong.status_code == 400
    assert http_clocked.get("/v1/meetingPreferences/personalMeetingRoom", headers=headers,
                            params={"siteUrl": "other.webex.com"}).status_code == 400


def test_started_and_ended_instances(clocked: RunningWebexEmulator,
                                     http_clocked: httpx.Client) -> None:
    headers = {"Authorization": f"Bearer {clocked.token(ALICE)}"}
    created = http_clocked.post("/v1/meetings", headers=headers, json=_body(
        start="2026-12-01T09:00:00Z", end="2026-12-01T10:00:00Z", timezone="UTC")).json()
    clock = clocked.state.clock
    assert isinstance(clock, ManualClock)
    clock.set(datetime(2026, 12, 1, 9, 1, tzinfo=UTC))
    clocked.control({"meeting_event": {"meetingId": created["id"], "event": "started"}})
    series = http_clocked.get(f"/v1/meetings/{created['id']}", headers=headers).json()
    assert series["state"] == "inProgress"
    window = {"meetingType": "meeting", "from": "2026-12-01T00:00:00Z",
              "to": "2026-12-02T00:00:00Z"}
    running = http_clocked.get("/v1/meetings", headers=headers, params=window).json()["items"]
    assert [i["state"] for i in running] == ["inProgress"]
    instance_id = running[0]["id"]
    assert running[0]["meetingSeriesId"] == created["id"] and running[0]["meetingNumber"]
    assert http_clocked.patch(f"/v1/meetings/{instance_id}", headers=headers,
                              json={"title": "x"}).status_code == 400
    clock.set(datetime(2026, 12, 1, 9, 50, tzinfo=UTC))
    clocked.control({"meeting_event": {"meetingId": created["id"], "event": "ended"}})
    # details of an ended meeting appear only 15 minutes after it ended
    assert http_clocked.get("/v1/meetings", headers=headers, params=window).json()[
        "items"] == []
    assert http_clocked.get(f"/v1/meetings/{instance_id}", headers=headers).status_code == 404
    clock.set(datetime(2026, 12, 1, 10, 5, tzinfo=UTC))
    ended = http_clocked.get(f"/v1/meetings/{instance_id}", headers=headers).json()
    assert ended["state"] == "ended" and ended["end"] == "2026-12-01T09:50:00Z"
    assert "meetingNumber" not in ended and "password" not in ended
    assert http_clocked.get(f"/v1/meetings/{created['id']}",
                            headers=headers).json()["state"] == "expired"


def test_room_meetings_need_spark_all_and_membership(clocked: RunningWebexEmulator,
                                                     http_clocked: httpx.Client) -> None:
    alice_token = clocked.token(ALICE)
    room = wxc(clocked, alice_token).rooms.create(title="Space")
    ok = http_clocked.post("/v1/meetings", json=_body(roomId=room.id),
                           headers={"Authorization": f"Bearer {alice_token}"})
    assert ok.status_code == 200 and ok.json()["roomId"] == room.id
    bob = {"Authorization": f"Bearer {clocked.token(BOB)}"}
    assert http_clocked.post("/v1/meetings", json=_body(roomId=room.id),
                             headers=bob).status_code == 403
    narrow = {"Authorization": f"Bearer {clocked.token(ALICE, ['meeting:schedules_write'])}"}
    assert http_clocked.post("/v1/meetings", json=_body(roomId=room.id),
                             headers=narrow).status_code == 403
    assert http_clocked.post("/v1/meetings", json=_body(roomId=room.id, adhoc=True),
                             headers={"Authorization": f"Bearer {alice_token}"}
                             ).status_code == 400
