"""Fault injection, quotas as Google counts them, the batch endpoint, the control endpoint."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from googleapiclient.errors import HttpError
from googleapiclient.http import BatchHttpRequest

from hybrid_calendar_google_emulator.testing import RunningEmulator, running_emulator
from tests.google_emulator.helpers import ALICE, BOB, calendar_service, timed

START, END = "2026-12-01T10:00:00Z", "2026-12-01T11:00:00Z"


@pytest.mark.parametrize(("status", "reason", "domain"), [
    (429, "rateLimitExceeded", "usageLimits"), (403, "rateLimitExceeded", "usageLimits"),
    (403, "userRateLimitExceeded", "usageLimits"), (500, "backendError", "global"),
    (503, "backendError", "global"),
])
def test_injected_errors_have_google_bodies(emu: RunningEmulator, cal: Any, status: int,
                                            reason: str, domain: str) -> None:
    emu.control({"errors": [{"status": status, "reason": reason, "count": 1}]})
    with pytest.raises(HttpError) as info:
        cal.events().list(calendarId="primary").execute()
    error = json.loads(info.value.content)["error"]
    assert error["code"] == status
    assert error["errors"][0]["reason"] == reason and error["errors"][0]["domain"] == domain
    assert cal.events().list(calendarId="primary").execute()["items"] == []  # count used up


def test_client_retries_through_injected_429s(emu: RunningEmulator, cal: Any,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("googleapiclient.http.time.sleep", lambda seconds: None)
    emu.control({"errors": [{"status": 429, "count": 2},
                            {"status": 403, "reason": "userRateLimitExceeded", "count": 1}]})
    assert cal.events().list(calendarId="primary").execute(num_retries=5)["items"] == []
    statuses = [r.status for r in emu.state.request_log if r.operation]
    assert statuses[-4:] == [429, 429, 403, 200]


def test_error_rules_can_target_user_and_path(emu: RunningEmulator,
                                              make_service: Callable[..., Any]) -> None:
    alice, bob = make_service(ALICE), make_service(BOB)
    emu.control({"errors": [{"status": 500, "user": BOB, "path": "/events$", "count": 5}]})
    assert alice.events().list(calendarId="primary").execute()["items"] == []
    with pytest.raises(HttpError):
        bob.events().list(calendarId="primary").execute()
    assert bob.settings().get(setting="locale").execute()["value"] == "en"
    emu.control({"clear_errors": True})
    assert bob.events().list(calendarId="primary").execute()["items"] == []


def test_faults_at_start() -> None:
    with running_emulator(users=[ALICE], fresh_key=False,
                          faults={"errors": [{"status": 503, "count": 1}]}) as emu:
        cal = calendar_service(emu)
        try:
            with pytest.raises(HttpError) as info:
                cal.events().list(calendarId="primary").execute()
            assert info.value.status_code == 503
            assert cal.events().list(calendarId="primary").execute()["items"] == []
        finally:
            cal.close()


def test_latency(emu: RunningEmulator, cal: Any) -> None:
    cal.events().list(calendarId="primary").execute()
    emu.control({"latency_ms": 150})
    started = time.monotonic()
    cal.events().list(calendarId="primary").execute()
    assert time.monotonic() - started >= 0.15


def test_user_quota_per_minute() -> None:
    with running_emulator(users=[ALICE, BOB], user_rpm=5, fresh_key=False) as emu:
        alice, bob = calendar_service(emu, ALICE), calendar_service(emu, BOB)
        try:
            for _ in range(5):
                alice.events().list(calendarId="primary").execute()
            with pytest.raises(HttpError) as info:
                alice.events().list(calendarId="primary").execute()
            assert info.value.status_code == 403
            assert info.value.error_details[0]["reason"] == "userRateLimitExceeded"
            bob.events().list(calendarId="primary").execute()  # other user unaffected
            # quotaUser moves the per-user accounting to another key
            alice.events().list(calendarId="primary", quotaUser="batch-job-1").execute()
            emu.control({"quota": {"status": 429}})
            with pytest.raises(HttpError) as info:
                alice.events().list(calendarId="primary").execute()
            assert info.value.status_code == 429
        finally:
            alice.close()
            bob.close()


def test_project_quota_and_patch_costs_three() -> None:
    with running_emulator(users=[ALICE, BOB], project_rpm=6, fresh_key=False) as emu:
        alice, bob = calendar_service(emu, ALICE), calendar_service(emu, BOB)
        try:
            event = alice.events().insert(calendarId="primary",
                                          body=timed("x", START, END)).execute()
            alice.events().patch(calendarId="primary", eventId=event["id"],
                                 body={"summary": "y"}).execute()  # 3 units: 4 used
            bob.events().list(calendarId="primary").execute()  # 5
            alice.events().list(calendarId="primary").execute()  # 6
            with pytest.raises(HttpError) as info:
                bob.events().list(calendarId="primary").execute()
            assert info.value.error_details[0]["reason"] == "rateLimitExceeded"
        finally:
            alice.close()
            bob.close()


def test_update_honours_if_match_and_costs_one_unit_a_patch_three() -> None:
    with running_emulator(users=[ALICE], fresh_key=False) as emu:
        alice = calendar_service(emu, ALICE)
        try:
            event = alice.events().insert(calendarId="primary",
                                          body=timed("x", START, END)).execute()
            stale = event["etag"]
            alice.events().patch(calendarId="primary", eventId=event["id"],
                                 body={"summary": "y"}).execute()
            request = alice.events().update(calendarId="primary", eventId=event["id"],
                                            body={**event, "summary": "z"})
            request.headers["If-Match"] = stale
            with pytest.raises(HttpError) as info:
                request.execute()
            assert info.value.resp.status == 412
            assert info.value.error_details[0]["reason"] == "conditionNotMet"
            current = alice.events().get(calendarId="primary", eventId=event["id"]).execute()
            request = alice.events().update(calendarId="primary", eventId=event["id"],
                                            body={**current, "summary": "z"})
            request.headers["If-Match"] = current["etag"]
            assert request.execute()["summary"] == "z"
        finally:
            alice.close()
        charged = [(r.operation, r.status, r.units) for r in emu.state.request_log
                   if r.operation != "oauth2.token"]
        assert charged == [("calendar.events.insert", 200, 1),
                           ("calendar.events.patch", 200, 3),
                           ("calendar.events.update", 412, 1),
                           ("calendar.events.get", 200, 1),
                           ("calendar.events.update", 200, 1)]


def test_units_of_a_call_refused_by_the_quota_are_not_counted() -> None:
    with running_emulator(users=[ALICE], user_rpm=1, fresh_key=False) as emu:
        alice = calendar_service(emu, ALICE)
        try:
            alice.events().list(calendarId="primary").execute()
            with pytest.raises(HttpError):
                alice.events().list(calendarId="primary").execute()
        finally:
            alice.close()
        assert [(r.status, r.units) for r in emu.state.request_log
                if r.operation == "calendar.events.list"] == [(200, 1), (403, 0)]


def warm_up(cal: Any) -> None:
    """Fetch a token first: googleapiclient's batch refresh leaks an httplib2 socket."""
    cal.events().list(calendarId="primary").execute()


def test_batch_with_google_client(emu: RunningEmulator, cal: Any) -> None:
    results: dict[str, Any] = {}

    def collect(request_id: str, response: Any, exception: Exception | None) -> None:
        results[request_id] = exception or response

    warm_up(cal)
    batch = BatchHttpRequest(callback=collect, batch_uri=emu.base_url + "/batch/calendar/v3")
    for i in range(3):
        batch.add(cal.events().insert(calendarId="primary", body=timed(f"b{i}", START, END)),
                  request_id=f"r{i}")
    batch.add(cal.events().get(calendarId="primary", eventId="missing"), request_id="bad")
    doomed = cal.events().insert(calendarId="primary", body=timed("d", START, END)).execute()
    batch.add(cal.events().delete(calendarId="primary", eventId=doomed["id"]), request_id="del")
    batch.add(cal.events().patch(calendarId="primary", eventId=doomed["id"] + "x",
                                 body={"summary": "z"}), request_id="nopatch")
    batch.execute()
    assert results["del"] == ""  # 204, no body
    assert isinstance(results["nopatch"], HttpError) and results["nopatch"].status_code == 404
    assert sorted(results[f"r{i}"]["summary"] for i in range(3)) == ["b0", "b1", "b2"]
    assert isinstance(results["bad"], HttpError) and results["bad"].status_code == 404
    parts = [r for r in emu.state.request_log if r.operation and r.operation.startswith("cal")]
    assert len(parts) == 8  # warm-up list, the insert, then each part is its own call


def test_batch_parts_count_against_quota() -> None:
    with running_emulator(users=[ALICE], user_rpm=3, fresh_key=False) as emu:
        cal = calendar_service(emu, ALICE)
        try:
            warm_up(cal)
            results: list[Any] = []
            batch = BatchHttpRequest(callback=lambda i, r, e: results.append(e or r),
                                     batch_uri=emu.base_url + "/batch/calendar/v3")
            for _ in range(4):
                batch.add(cal.events().list(calendarId="primary"))
            batch.execute()
            assert [isinstance(r, HttpError) for r in results] == [False, False, True, True]
        finally:
            cal.close()


def test_batch_rejects_non_multipart(emu: RunningEmulator) -> None:
    response = httpx.post(emu.base_url + "/batch/calendar/v3", content=b"{}",
                          headers={"Content-Type": "application/json"})
    assert response.status_code == 400
    assert response.json()["error"]["code"] == 400


def test_control_endpoint_over_http(emu: RunningEmulator, cal: Any) -> None:
    response = httpx.post(emu.base_url + "/emulator/control",
                          json={"errors": [{"status": 503, "count": 1}]})
    assert response.status_code == 200
    with pytest.raises(HttpError) as info:
        cal.events().list(calendarId="primary").execute()
    assert info.value.status_code == 503
    bad = httpx.post(emu.base_url + "/emulator/control", json={"nonsense": 1})
    assert bad.status_code == 400 and "nonsense" in bad.json()["error"]


def test_token_endpoint_faults(emu: RunningEmulator) -> None:
    emu.control({"token_errors": [{"status": 503, "count": 1}]})
    import httplib2
    from google_auth_httplib2 import Request

    http = httplib2.Http()
    try:
        creds = emu.credentials(ALICE)
        creds.refresh(Request(http))  # google-auth retries the 503 once and succeeds
        assert creds.token
    finally:
        http.close()
    statuses = [r.status for r in emu.state.request_log if r.path == "/token"]
    assert statuses == [503, 200]
