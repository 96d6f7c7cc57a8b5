"""Workspaces with linked calendars, devices, cloud xAPI bookings (both Put shapes), offline."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx
import pytest
from wxc_sdk.devices import ConnectionStatus
from wxc_sdk.rest import RestError
from wxc_sdk.workspaces import CalendarType, Workspace

from hybrid_calendar.clock import ManualClock
from hybrid_calendar_webex_emulator.testing import RunningWebexEmulator, running_webex_emulator
from tests.webex_emulator.helpers import ALICE, wxc

BOOKING = {"Id": "gcal-1", "Title": "Design review", "Protocol": "SIP",
           "Time": {"StartTime": "2026-12-01T10:00:00Z", "Duration": 60},
           "Organizer": {"Name": "Alice"}, "Number": "25897621745@example.webex.com"}


def _calendar_email(workspace: Workspace) -> str:
    """The address of a workspace's linked calendar (wxc-sdk types it as optional)."""
    assert workspace.calendar is not None and workspace.calendar.email_address is not None
    return workspace.calendar.email_address


def _room_device(emu: RunningWebexEmulator) -> tuple[str, str]:
    api = wxc(emu, emu.admin_token)
    workspace = next(w for w in api.workspaces.list(calendar=CalendarType("google"))
                     if _calendar_email(w) == "room-1@example.com")
    assert workspace.workspace_id is not None
    device = next(iter(api.devices.list(workspace_id=workspace.workspace_id)))
    assert device.device_id is not None
    return workspace.workspace_id, device.device_id


def test_workspaces_by_calendar_and_their_devices(emu: RunningWebexEmulator) -> None:
    api = wxc(emu, emu.admin_token)
    rooms = list(api.workspaces.list(calendar=CalendarType("google")))
    assert sorted(_calendar_email(w) for w in rooms) == ["room-1@example.com",
                                                               "room-2@example.com"]
    workspace_id, device_id = _room_device(emu)
    device = api.devices.details(device_id)
    assert device.capabilities is not None
    assert device.workspace_id == workspace_id and "xapi" in device.capabilities
    assert device.connection_status == ConnectionStatus.connected
    assert not list(api.workspaces.list(calendar=CalendarType("microsoft")))
    with pytest.raises(RestError) as caught:
        list(wxc(emu, emu.token(ALICE)).workspaces.list())
    assert caught.value.response.status_code == 403


def test_bookings_put_both_shapes_list_status_and_clear() -> None:
    clock = ManualClock(datetime(2026, 12, 1, 9, 0, tzinfo=UTC))
    with running_webex_emulator(users=[ALICE], workspaces=1, clock=clock) as emu:
        _, device_id = _room_device(emu)
        xapi = wxc(emu, emu.admin_token).xapi
        put = xapi.execute_command("Bookings.Put", device_id, body={"Booking": BOOKING})
        assert put.device_id == device_id
        second = dict(BOOKING, Id="gcal-2",
                      Time={"StartTime": "2026-12-01T12:00:00Z", "Duration": 30})
        xapi.execute_command("Bookings.Put", device_id, body={"Bookings": [BOOKING, second]})
        listed = xapi.execute_command("Bookings.List", device_id, arguments={"Days": 1})
        assert listed.result is not None
        assert listed.result["ResultInfo"]["TotalRows"] == 2
        first = listed.result["Booking"][0]
        assert first["Id"] == "gcal-1" and first["Time"]["EndTime"] == "2026-12-01T11:00:00Z"
        assert [b["Id"] for b in emu.state.device_bookings(device_id)] == ["gcal-1", "gcal-2"]
        status = xapi.query_status(device_id, ["Bookings.Current.Id"])
        assert status.result == {"Bookings": {"Current": {"Id": ""}}}
        clock.set(datetime(2026, 12, 1, 9, 56, tzinfo=UTC))  # inside the 5-minute buffer
        status = xapi.query_status(device_id, ["Bookings.*"])
        assert status.result is not None
        assert status.result["Bookings"]["Current"]["Id"] == "gcal-1"
        assert status.result["Bookings"]["Availability"]["Status"] == "BookedUntil"
        xapi.execute_command("Bookings.Clear", device_id)
        assert emu.state.device_bookings(device_id) == []


def test_bookings_put_body_as_string_and_bad_bodies(emu: RunningWebexEmulator,
                                                    http: httpx.Client) -> None:
    _, device_id = _room_device(emu)
    headers = {"Authorization": f"Bearer {emu.admin_token}"}
    import json

    ok = http.post("/v1/xapi/command/Bookings.Put", headers=headers,
                   json={"deviceId": device_id, "body": json.dumps({"Booking": BOOKING})})
    assert ok.status_code == 200
    assert ok.json()["result"]["Booking"]["Id"] == "gcal-1"  # as the reference's example
    control = http.get(f"/_emulator/devices/{device_id}/bookings").json()
    assert [b["Id"] for b in control["items"]] == ["gcal-1"]
    bad_bodies: tuple[object, ...] = ({"Booking": {"Title": "no id"}}, {"Something": []},
                                      "not json")
    for body in bad_bodies:
        bad = http.post("/v1/xapi/command/Bookings.Put", headers=headers,
                        json={"deviceId": device_id, "body": body})
        assert bad.status_code == 400 and bad.json()["trackingId"]
    unknown = http.post("/v1/xapi/command/Bookings.Put", headers=headers,
                        json={"deviceId": "nope", "body": {"Booking": BOOKING}})
    assert unknown.status_code == 404
    too_many = http.get("/v1/xapi/status", headers=headers, params={
        "deviceId": device_id, "name": ",".join(["Bookings.Current.Id"] * 11)})
    assert too_many.status_code == 400


def test_offline_device_answers_error_and_keeps_bookings(emu: RunningWebexEmulator,
                                                        http: httpx.Client) -> None:
    _, device_id = _room_device(emu)
    xapi = wxc(emu, emu.admin_token).xapi
    xapi.execute_command("Bookings.Put", device_id, body={"Booking": BOOKING})
    assert http.put(f"/_emulator/devices/{device_id}/connection",
                    json={"connectionStatus": "disconnected"}).status_code == 200
    with pytest.raises(RestError) as caught:
        xapi.execute_command("Bookings.Clear", device_id)
    assert caught.value.response.status_code == 502
    with pytest.raises(RestError):
        xapi.query_status(device_id, ["Bookings.Current.Id"])
    assert wxc(emu, emu.admin_token).devices.details(device_id).connection_status == \
        ConnectionStatus.disconnected
    assert [b["Id"] for b in emu.state.device_bookings(device_id)] == ["gcal-1"]


def test_xapi_needs_its_scopes(emu: RunningWebexEmulator) -> None:
    _, device_id = _room_device(emu)
    token = emu.token("admin@example.com", ["spark-admin:devices_read"])
    with pytest.raises(RestError) as caught:
        wxc(emu, token).xapi.execute_command("Bookings.List", device_id)
    assert caught.value.response.status_code == 403
