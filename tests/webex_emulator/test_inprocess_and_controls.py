"""The in-process app (ASGI), the control routes, Service App identity, invitees, xAPI Get."""

from __future__ import annotations

import asyncio

import httpx
import pytest
from wxc_sdk.meetings import InviteeForCreateMeeting
from wxc_sdk.webhook import WebhookEventType, WebhookResource

from hybrid_calendar_webex_emulator.app import create_app
from hybrid_calendar_webex_emulator.settings import WebexEmulatorSettings
from hybrid_calendar_webex_emulator.state import WebexState
from hybrid_calendar_webex_emulator.testing import RunningWebexEmulator
from tests.webex_emulator.helpers import ALICE, BOB, Receiver, wxc, wxc_async


def test_in_process_app_through_asgi_transport() -> None:
    state = WebexState(WebexEmulatorSettings(users=[ALICE]))

    async def scenario() -> dict[str, object]:
        transport = httpx.ASGITransport(app=create_app(state))
        async with httpx.AsyncClient(transport=transport, base_url="http://emu") as client:
            answer = await client.get("/v1/people/me", headers={
                "Authorization": f"Bearer {state.issue_token(ALICE)}"})
            assert answer.headers["trackingid"].startswith("ROUTER_")
            result: dict[str, object] = answer.json()
            return result

    try:
        assert asyncio.run(scenario())["emails"] == [ALICE]
    finally:
        state.close()


def test_control_routes(emu: RunningWebexEmulator, http: httpx.Client,
                        receiver: Receiver) -> None:
    token = http.post("/_emulator/tokens", json={"email": ALICE}).json()["access_token"]
    assert wxc(emu, token).people.me().emails == [ALICE]
    assert http.post("/_emulator/control", json={"expire_tokens": ALICE}).json()[
        "expired_tokens"] >= 1
    assert http.get("/v1/people/me", headers={
        "Authorization": f"Bearer {token}"}).status_code == 401
    http.post("/_emulator/control", json={"add_users": ["dave@example.com"],
                                          "set_status": {"dave@example.com": "meeting"}})
    assert emu.state.person("dave@example.com")["status"] == "meeting"
    created = http.post("/_emulator/workspaces", json={
        "displayName": "Board Room", "calendarEmail": "board@example.com"}).json()
    assert created["workspace"]["calendar"] == {"type": "google",
                                                "emailAddress": "board@example.com"}
    assert created["device"]["workspaceId"] == created["workspace"]["id"]
    workspace_id = created["workspace"]["id"]
    added = http.post(f"/_emulator/workspaces/{workspace_id}/devices", json={}).json()
    assert added["id"] != created["device"]["id"]
    listed = wxc(emu, emu.admin_token).devices.list(workspace_id=workspace_id)
    assert sorted(str(d.device_id) for d in listed) == sorted([added["id"],
                                                          created["device"]["id"]])
    assert http.post("/_emulator/workspaces/nope/devices", json={}).status_code == 404
    assert http.put("/_emulator/devices/nope/connection",
                    json={"connectionStatus": "disconnected"}).status_code == 404
    assert http.put(f"/_emulator/devices/{created['device']['id']}/connection",
                    json={"connectionStatus": "asleep"}).status_code == 400
    bob_token = emu.token(BOB)
    wxc(emu, bob_token).webhook.create(name="m", target_url=receiver.url,
                                      resource=WebhookResource("messages"),
                                      event=WebhookEventType("created"))
    wxc(emu, emu.token(ALICE)).messages.create(to_person_email=BOB, text="hello")
    emu.wait_for_webhooks()
    deliveries = http.get("/_emulator/webhook-deliveries").json()["items"]
    assert [d["status"] for d in deliveries] == [200]
    received = http.get(f"/_emulator/people/{BOB}/messages").json()["items"]
    assert [m["text"] for m in received] == ["hello"]


def test_service_app_me_is_its_machine_account(emu: RunningWebexEmulator,
                                               http: httpx.Client) -> None:
    app = emu.state.create_service_app("Gateway")
    emu.state.authorize_service_app(app.application_id)
    tokens = http.post(f"/v1/applications/{app.application_id}/token",
                       headers={"Authorization": f"Bearer {emu.admin_token}"},
                       json={"clientId": app.client_id, "clientSecret": app.client_secret,
                             "targetOrgId": emu.state.org_id}).json()
    me = wxc(emu, tokens["access_token"]).people.me()
    assert me.person_id == app.person_id and me.display_name == "Gateway"
    assert me.person_type == "appuser"


def test_invitees_and_async_meetings(emu: RunningWebexEmulator) -> None:
    async def scenario() -> list[str | None]:
        api = wxc_async(emu, emu.admin_token)
        try:
            meeting = await api.meetings.create(
                title="Async", start="2030-01-01T10:00:00Z", end="2030-01-01T11:00:00Z",
                host_email=ALICE,
                # wxc-sdk annotates one invitee; the API (and its body model) takes a list
                invitees=[InviteeForCreateMeeting(email=BOB, display_name="Bob")],  # type: ignore[arg-type]
                integration_tags=["gcal:async"])
            assert meeting.id is not None
            found = [m async for m in api.meetings.list_gen(
                integration_tag="gcal:async", host_email=ALICE, from_="2029-12-31T00:00:00Z",
                to_="2030-01-02T00:00:00Z")]
            assert [m.id for m in found] == [meeting.id]
            invitees = [i async for i in api.meetings.invitees.list_gen(
                meeting.id, host_email=ALICE)]
            return [i.email for i in invitees]
        finally:
            await api.session.close()

    assert asyncio.run(scenario()) == [BOB]


def test_bookings_get_and_delete(emu: RunningWebexEmulator) -> None:
    device_id = next(iter(emu.state.devices))
    xapi = wxc(emu, emu.admin_token).xapi
    booking = {"Id": "b1", "Title": "T", "Time": {"StartTime": "2030-01-01T10:00:00Z",
                                                   "EndTime": "2030-01-01T10:30:00Z"}}
    xapi.execute_command("Bookings.Put", device_id, body={"Booking": booking})
    got = xapi.execute_command("Bookings.Get", device_id, arguments={"Id": "b1"})
    assert got.result is not None
    assert got.result["Booking"]["Time"]["EndTime"] == "2030-01-01T10:30:00Z"
    xapi.execute_command("Bookings.Delete", device_id, arguments={"Id": "b1"})
    assert emu.state.device_bookings(device_id) == []


def test_malformed_bodies_are_400_never_500(emu: RunningWebexEmulator,
                                            http: httpx.Client) -> None:
    headers = {"Authorization": f"Bearer {emu.admin_token}"}
    device_id = next(iter(emu.state.devices))
    start = {"title": "t", "start": "2030-01-01T10:00:00Z", "end": "2030-01-01T11:00:00Z"}
    cases = [
        ("/v1/meetings", {**start, "invitees": "bob"}),
        ("/v1/meetings", {**start, "invitees": [{"email": 5}]}),
        ("/v1/meetings", {**start, "joinBeforeHostMinutes": "ten"}),
        ("/v1/meetings", {**start, "title": ["x"]}),
        ("/v1/meetings", {**start, "start": 12}),
        ("/v1/xapi/command/Bookings.List", {"deviceId": device_id,
                                            "arguments": {"Offset": "x"}}),
        ("/v1/xapi/command/Bookings.Put", {"deviceId": device_id, "body": {
            "Booking": {"Id": "a", "Time": {"StartTime": "2030-01-01T10:00:00Z",
                                            "Duration": "long"}}}}),
        ("/v1/messages", {"toPersonEmail": ALICE, "text": 7}),
        ("/v1/webhooks", {"name": "x", "targetUrl": 3, "resource": "messages",
                          "event": "created"}),
        ("/v1/rooms", {"title": None}),
    ]
    for path, body in cases:
        answer = http.post(path, json=body, headers=headers)
        assert answer.status_code == 400, (path, body, answer.text)
        assert answer.json()["trackingId"]
    not_json = http.post("/v1/meetings", content=b"{nope", headers=headers)
    assert not_json.status_code == 400


def test_bare_user_names_take_the_domain_and_all_bookings_route() -> None:
    from hybrid_calendar_webex_emulator.testing import running_webex_emulator

    with running_webex_emulator(domain="corp.example", users=["ana", "Ben@corp.example"],
                                calling_users=["ana"], workspaces=1) as emu, \
            httpx.Client(base_url=emu.base_url) as http:
        assert emu.state.person("ana@corp.example")["_calling"] is True
        assert emu.state.person("ben@corp.example")["_calling"] is False
        items = http.get("/_emulator/bookings").json()["items"]
        assert len(items) == 1 and items[0]["bookings"] == []
        assert http.get("/_emulator/devices/nope/bookings").status_code == 404


def test_org_owned_webhook_needs_admin_scopes(emu: RunningWebexEmulator,
                                              receiver: Receiver) -> None:
    from wxc_sdk.rest import RestError

    with pytest.raises(RestError) as caught:
        wxc(emu, emu.token(ALICE)).webhook.create(
            name="org", target_url=receiver.url, resource=WebhookResource("meetings"),
            event=WebhookEventType("all"), owned_by="org")
    assert caught.value.response.status_code == 403


def test_wxc_update_and_patch_meeting(emu: RunningWebexEmulator) -> None:
    api = wxc(emu, emu.token(ALICE))
    meeting = api.meetings.create(title="One", start="2030-01-01T10:00:00Z",
                                  end="2030-01-01T11:00:00Z", integration_tags=["gcal:x"])
    assert meeting.id is not None and meeting.password is not None
    updated = api.meetings.update(meeting.id, title="Two", start="2030-01-01T10:00:00Z",
                                  end="2030-01-01T10:30:00Z", password=meeting.password)
    assert updated.title == "Two" and updated.end == "2030-01-01T10:30:00Z"
    assert "integrationTags" not in emu.state.meetings[meeting.id]  # PUT replaces
    patched = api.meetings.patch(meeting.id, agenda="Notes")
    assert patched.agenda == "Notes" and patched.title == "Two"
    assert patched.meeting_number == meeting.meeting_number


def test_control_routes_name_missing_fields(http: httpx.Client) -> None:
    for path in ("/_emulator/integrations", "/_emulator/workspaces", "/_emulator/tokens"):
        answer = http.post(path, json={})
        assert answer.status_code == 400 and "is required" in answer.json()["error"]
    assert http.post("/_emulator/tokens", json={"email": "nobody@example.com"}).status_code == 404
    assert http.post("/_emulator/control", content=b"[1]").status_code == 400
