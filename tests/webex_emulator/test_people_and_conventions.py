"""People, status, error shapes, trackingId, paging: through wxc-sdk, webexpythonsdk, httpx."""

from __future__ import annotations

import httpx
import pytest
import webexpythonsdk
from wxc_sdk.people import PeopleStatus
from wxc_sdk.rest import RestError

from hybrid_calendar_webex_emulator.testing import RunningWebexEmulator, running_webex_emulator
from tests.webex_emulator.helpers import ALICE, BOB, first_email, webexsdk, wxc


def test_people_me_and_by_email_with_both_clients(emu: RunningWebexEmulator) -> None:
    api = wxc(emu, emu.token(ALICE))
    me = api.people.me()
    assert me.emails == [ALICE] and me.display_name == "Alice"
    bob = next(iter(api.people.list(email=BOB)))
    assert bob.emails == [BOB] and bob.status == PeopleStatus.active
    sdk = webexsdk(emu, emu.token(ALICE))
    assert sdk.people.get(bob.person_id).emails == [BOB]
    assert sdk.people.me().id == me.person_id


def test_status_is_read_only_and_set_through_control_route(emu: RunningWebexEmulator,
                                                           http: httpx.Client) -> None:
    token = emu.token(ALICE)
    bob = emu.state.person(BOB)
    # no API writes it: a PUT on /people/{id} is not served
    answer = http.put(f"/v1/people/{bob['id']}", json={"status": "OutOfOffice"},
                      headers={"Authorization": f"Bearer {token}"})
    assert answer.status_code == 405
    control = http.put(f"/_emulator/people/{BOB}/status", json={"status": "OutOfOffice"})
    assert control.status_code == 200 and control.json()["status"] == "OutOfOffice"
    assert wxc(emu, token).people.details(bob["id"]).status == PeopleStatus.out_of_office
    bad = http.put(f"/_emulator/people/{BOB}/status", json={"status": "Sleeping"})
    assert bad.status_code == 400


def test_status_omitted_for_id_lists_and_exclude_status(emu: RunningWebexEmulator,
                                                        http: httpx.Client) -> None:
    headers = {"Authorization": f"Bearer {emu.token(ALICE)}"}
    bob = emu.state.person(BOB)["id"]
    listed = http.get("/v1/people", params={"id": bob}, headers=headers).json()["items"]
    assert listed[0]["id"] == bob and "status" not in listed[0]
    single = http.get(f"/v1/people/{bob}", params={"excludeStatus": "true"},
                      headers=headers).json()
    assert "status" not in single


def test_error_body_and_tracking_id(emu: RunningWebexEmulator, http: httpx.Client) -> None:
    answer = http.get("/v1/people/me", headers={"Authorization": "Bearer nope"})
    assert answer.status_code == 401
    body = answer.json()
    assert set(body) == {"message", "errors", "trackingId"}
    assert body["errors"] == [{"description": body["message"]}]
    assert answer.headers["trackingid"] == body["trackingId"]
    assert body["trackingId"].startswith("ROUTER_")
    ok = http.get("/v1/people/me", headers={"Authorization": f"Bearer {emu.token(ALICE)}"})
    assert ok.headers["trackingid"].startswith("ROUTER_")
    assert http.get("/v1/nothing", headers={"Authorization": "Bearer x"}).status_code == 404


def test_non_admin_list_needs_a_filter(emu: RunningWebexEmulator) -> None:
    with pytest.raises(RestError) as caught:
        list(wxc(emu, emu.token(ALICE)).people.list())
    assert caught.value.response.status_code == 400
    assert "email" in caught.value.description.lower()
    emails = {first_email(p) for p in wxc(emu, emu.admin_token).people.list()}
    assert {ALICE, BOB, "admin@example.com"} <= emails


def test_missing_scope_is_403_for_both_clients(emu: RunningWebexEmulator) -> None:
    token = emu.token(ALICE, ["spark:rooms_read"])
    with pytest.raises(RestError) as caught:
        wxc(emu, token).people.me()
    assert caught.value.response.status_code == 403
    with pytest.raises(webexpythonsdk.ApiError) as error:
        webexsdk(emu, token).people.me()
    assert error.value.status_code == 403 and error.value.tracking_id


def test_paging_follows_absolute_link_with_max_and_filters() -> None:
    users = [f"user{i:02d}@example.com" for i in range(23)]
    with running_webex_emulator(users=users) as emu, httpx.Client() as client:
        first = client.get(emu.api_base + "/people", params={"max": 5, "displayName": "User"},
                           headers={"Authorization": f"Bearer {emu.admin_token}"})
        assert len(first.json()["items"]) == 5
        link = first.links["next"]["url"]
        assert link.startswith(emu.api_base + "/people?") and "displayName=User" in link
        assert "max=5" in link
        names = [first_email(p) for p in wxc(emu, emu.admin_token).people.list(
            display_name="User", max=5)]
        assert sorted(names) == users
        sdk_names = [p.emails[0] for p in webexsdk(emu, emu.admin_token).people.list(
            displayName="User", max=4)]
        assert sorted(sdk_names) == users
        clamped = client.get(emu.api_base + "/people", params={"max": 5000},
                             headers={"Authorization": f"Bearer {emu.admin_token}"})
        assert len(clamped.json()["items"]) == 23 + 1  # the administrator too
        bad = client.get(emu.api_base + "/people", params={"max": "many"},
                         headers={"Authorization": f"Bearer {emu.admin_token}"})
        assert bad.status_code == 400


def test_id_list_reports_not_found_ids(emu: RunningWebexEmulator, http: httpx.Client) -> None:
    bob = emu.state.person(BOB)["id"]
    answer = http.get("/v1/people", params={"id": f"{bob},nobody"},
                      headers={"Authorization": f"Bearer {emu.token(ALICE)}"}).json()
    assert [p["id"] for p in answer["items"]] == [bob]
    assert answer["notFoundIds"] == ["nobody"]
    assert answer["items"][0]["sipAddresses"][0] == {
        "type": "personal-room", "primary": False, "value": "bob@example.webex.com"}


def test_licenses_and_calling_data() -> None:
    with running_webex_emulator(users=[ALICE, BOB], calling_users=[ALICE]) as emu:
        api = wxc(emu, emu.admin_token)
        licenses = list(api.licenses.list())
        calling = next(lic for lic in licenses if lic.webex_calling)
        assert calling.consumed_units == 1
        meetings = next(lic for lic in licenses if not lic.webex_calling)
        assert meetings.site_url == "example.webex.com"
        assert meetings.consumed_units == 3  # Alice, Bob and the administrator
        alice = api.people.details(emu.state.person(ALICE)["id"], calling_data=True)
        assert alice.licenses is not None
        assert calling.license_id in alice.licenses and alice.extension
        assert alice.location_id
        bob = api.people.details(emu.state.person(BOB)["id"], calling_data=True)
        assert bob.licenses is not None
        assert calling.license_id not in bob.licenses and bob.extension is None
        assert api.licenses.details(calling.license_id).name == "Webex Calling - Professional"
        with pytest.raises(RestError) as caught:
            list(wxc(emu, emu.token(ALICE)).licenses.list())
        assert caught.value.response.status_code == 403
