"""Activation as the seed describes it, through the admin API against the emulator."""

from __future__ import annotations

from typing import Any

import pytest

from tests.engine.conftest import ALICE, BOB, CAROL, Stack

pytestmark = pytest.mark.anyio


async def users(stack: Stack) -> dict[str, dict[str, Any]]:
    listed = (await stack.admin.get("/api/v1/organisations/org1/users")).json()["users"]
    return {u["email"]: u for u in listed}


async def test_address_outside_the_verified_domains_is_refused(stack: Stack) -> None:
    response = await stack.admin.post("/api/v1/organisations/org1/users",
                                      json={"email": "mallory@elsewhere.org"})
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "domain_not_verified"
    assert await users(stack) == {}
    assert stack.calls("mallory@elsewhere.org") == []  # Google never asked


async def test_an_address_the_admin_marked_verified_is_validated(stack: Stack) -> None:
    response = await stack.admin.post("/api/v1/organisations/org1/users", json={
        "emails": ["guest@elsewhere.org"], "mark_verified": True})
    assert response.status_code == 202
    assert response.json()["results"][0]["accepted"] is True
    await stack.idle()
    guest = (await users(stack))["guest@elsewhere.org"]
    # accepted, then validated: the emulator's Workspace has no such user
    assert (guest["state"], guest["reason_code"]) == ("error", "access_denied")


async def test_an_address_given_twice_or_again_stands_for_one_user(stack: Stack) -> None:
    response = await stack.admin.post("/api/v1/organisations/org1/users", json={
        "emails": [ALICE, "not-an-address", ALICE.upper(), "zed@other.net", BOB]})
    assert response.status_code == 202
    results = response.json()["results"]
    assert [(r["email"], r["accepted"], r["code"]) for r in results] == [
        (ALICE, True, None), ("not-an-address", False, "invalid_address"),
        (ALICE.upper(), True, None), ("zed@other.net", False, "domain_not_verified"),
        (BOB, True, None)]  # in the order given, each address as given
    assert results[0]["user_id"] == results[2]["user_id"] != results[4]["user_id"]
    assert {results[0]["state"], results[4]["state"]} == {"pending"}
    entry = (await stack.admin.get("/api/v1/audit")).json()["entries"][0]
    assert (entry["action"], entry["details"]) == ("add.users", {"accepted": 3, "refused": 2})
    await stack.idle()
    assert (await users(stack))[ALICE]["state"] == "active"
    again = await stack.admin.post("/api/v1/organisations/org1/users", json={"email": ALICE})
    assert again.status_code == 202
    assert (again.json()["id"], again.json()["state"]) == (results[0]["user_id"], "pending")
    await stack.idle()
    listed = await users(stack)
    assert sorted(listed) == [ALICE, BOB]
    assert [listed[ALICE]["state"], listed[BOB]["state"]] == ["active", "active"]
    assert len(stack.calls(ALICE, "POST", "/watch")) == 2  # activated once per request


async def test_validated_user_becomes_active_with_health(stack: Stack) -> None:
    user = await stack.activate(ALICE)
    assert (user["state"], user["reason_code"], user["reason"]) == ("active", None, None)
    assert user["channel_expires_at"] and user["last_sync_at"]
    assert user["health"]["last_success_at"] and user["health"]["consecutive_failures"] == 0
    assert stack.calls(ALICE, "GET", "/events/") == []  # no event read: the watch proves
    assert stack.calls(ALICE, "POST", "/watch")  # the calendar readable, the sync reads it
    assert stack.calls(ALICE, "GET", "/vacation")  # the vacation responder was read


async def test_unknown_user_of_the_domain_ends_in_error_with_a_code(stack: Stack) -> None:
    user = await stack.activate("dave@example.com")
    assert user["state"] == "error"
    assert user["reason_code"] == "access_denied"
    assert "dave" not in user["reason"]


async def test_error_user_is_not_synced_until_validate(stack: Stack) -> None:
    stack.emu.control({"errors": [{"status": 403, "reason": "forbidden", "count": 1,
                                   "path": "/vacation$"}]})
    user = await stack.activate(BOB)
    assert (user["state"], user["reason_code"]) == ("error", "access_denied")
    await stack.admin.post(f"/api/v1/users/{user['id']}/sync")  # refused: not active
    await stack.idle()
    assert stack.calls(BOB, "GET", "/events") == []
    response = await stack.admin.post(f"/api/v1/users/{user['id']}/validate")
    assert response.status_code == 202
    await stack.idle()
    assert (await users(stack))[BOB]["state"] == "active"


async def test_deactivate_stops_the_channel_and_purges(stack: Stack) -> None:
    user = await stack.activate(CAROL)
    assert user["state"] == "active"
    response = await stack.admin.post(f"/api/v1/users/{user['id']}/deactivate")
    assert response.status_code == 202
    await stack.idle()
    after = (await users(stack))[CAROL]
    assert (after["state"], after["channel_expires_at"], after["meetings"]) == (
        "inactive", None, 0)
    assert stack.calls(CAROL, "POST", "/channels/stop")


async def test_csv_import_reports_each_address(stack: Stack) -> None:
    body = f"email,name\n{ALICE},Alice\nnot-an-address,X\nzed@other.net,Zed\n"
    response = await stack.admin.post("/api/v1/organisations/org1/users/import",
                                      content=body, headers={"content-type": "text/csv"})
    assert response.status_code == 202
    results = {r["email"]: r for r in response.json()["results"]}
    assert results[ALICE]["accepted"] is True
    assert results["not-an-address"]["code"] == "invalid_address"
    assert results["zed@other.net"]["code"] == "domain_not_verified"
    await stack.idle()
    assert (await users(stack))[ALICE]["state"] == "active"


async def test_creating_an_existing_organisation_is_409(stack: Stack) -> None:
    response = await stack.admin.post("/api/v1/organisations", json={
        "id": "org1", "name": "Again", "domains": ["example.com"]})
    assert response.status_code == 409
    org = (await stack.admin.get("/api/v1/organisations/org1")).json()
    assert org["name"] == "Example"  # not overwritten
