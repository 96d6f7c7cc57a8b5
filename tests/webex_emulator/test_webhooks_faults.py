"""Webhook CRUD and deactivation, per-token rate limits, injected faults and latency."""

from __future__ import annotations

import time
from datetime import timedelta

import httpx
import pytest
import webexpythonsdk
from wxc_sdk.rest import RestError
from wxc_sdk.webhook import WebhookEventType, WebhookResource

from hybrid_calendar.clock import ManualClock
from hybrid_calendar_webex_emulator.testing import RunningWebexEmulator, running_webex_emulator
from tests.webex_emulator.helpers import ALICE, BOB, Receiver, webexsdk, wxc


def test_webhook_crud_with_webexpythonsdk(emu: RunningWebexEmulator,
                                          receiver: Receiver) -> None:
    sdk = webexsdk(emu, emu.token(ALICE))
    hook = sdk.webhooks.create(name="m", targetUrl=receiver.url, resource="meetings",
                               event="created", secret="x")
    assert hook.status == "active" and hook.createdBy == emu.state.person(ALICE)["id"]
    assert [h.id for h in sdk.webhooks.list()] == [hook.id]
    assert list(webexsdk(emu, emu.token(BOB)).webhooks.list()) == []
    updated = sdk.webhooks.update(hook.id, name="renamed", targetUrl=receiver.url)
    assert updated.name == "renamed"
    sdk.webhooks.delete(hook.id)
    with pytest.raises(webexpythonsdk.ApiError) as caught:
        sdk.webhooks.get(hook.id)
    assert caught.value.status_code == 404
    with pytest.raises(webexpythonsdk.ApiError) as bad:
        sdk.webhooks.create(name="m", targetUrl=receiver.url, resource="meetings",
                            event="exploded")
    assert bad.value.status_code == 400


def test_webhook_turns_inactive_after_repeated_failures(receiver: Receiver) -> None:
    with running_webex_emulator(users=[ALICE, BOB], webhook_failure_limit=3) as emu:
        alice = wxc(emu, emu.token(ALICE))
        hook = alice.webhook.create(name="m", target_url=receiver.url,
                                    resource=WebhookResource("messages"),
                                    event=WebhookEventType("created"))
        receiver.statuses = [500, 500, 500]
        for index in range(4):
            alice.messages.create(to_person_email=BOB, text=f"m{index}")
            emu.wait_for_webhooks()  # each failure is counted before the next event
        assert len(receiver.received) == 3  # the fourth is not sent any more
        assert hook.webhook_id is not None
        assert alice.webhook.details(hook.webhook_id).status == "inactive"
        statuses = [d.status for d in emu.state.delivery.deliveries]
        assert statuses == [500, 500, 500]
        # setting it active again resumes delivery
        with httpx.Client() as http:
            http.put(f"{emu.api_base}/webhooks/{hook.webhook_id}",
                     headers={"Authorization": f"Bearer {emu.token(ALICE)}"},
                     json={"name": "m", "targetUrl": receiver.url, "status": "active"})
        alice.messages.create(to_person_email=BOB, text="again")
        assert receiver.wait_for(4)[3]["body"]["data"]["personEmail"] == ALICE


def test_dropped_webhooks_are_recorded_not_sent(receiver: Receiver) -> None:
    with running_webex_emulator(users=[ALICE, BOB], faults={"drop_webhooks": 1.0}) as emu:
        alice = wxc(emu, emu.token(ALICE))
        alice.webhook.create(name="m", target_url=receiver.url,
                             resource=WebhookResource("messages"),
                             event=WebhookEventType("created"))
        alice.messages.create(to_person_email=BOB, text="lost")
        deliveries = emu.wait_for_webhooks()
        assert [d.dropped for d in deliveries] == [True]
        assert receiver.received == []


def test_rate_limit_429_without_body_and_retry_after() -> None:
    clock = ManualClock()
    with running_webex_emulator(users=[ALICE], clock=clock, rate_limit_per_minute=2) as emu, \
            httpx.Client(base_url=emu.api_base) as http:
        token = emu.token(ALICE)
        headers = {"Authorization": f"Bearer {token}"}
        assert http.get("/people/me", headers=headers).status_code == 200
        clock.advance(timedelta(seconds=20))
        assert http.get("/people/me", headers=headers).status_code == 200
        limited = http.get("/people/me", headers=headers)
        assert limited.status_code == 429 and limited.content == b""
        assert limited.headers["retry-after"] == "40"
        assert limited.headers["trackingid"].startswith("ROUTER_")
        other = {"Authorization": f"Bearer {emu.token(ALICE)}"}
        assert http.get("/people/me", headers=other).status_code == 200  # per token
        clock.advance(timedelta(seconds=41))
        assert http.get("/people/me", headers=headers).status_code == 200


def test_wxc_retries_injected_429_after_retry_after(emu: RunningWebexEmulator) -> None:
    emu.control({"errors": [{"status": 429, "count": 2, "retryAfter": 0, "path": "/people/me"}]})
    assert wxc(emu, emu.token(ALICE)).people.me().emails == [ALICE]
    assert [s for m, p, s in emu.state.request_log if p == "/v1/people/me"] == [429, 429, 200]


@pytest.mark.parametrize("status", [423, 500, 503])
def test_injected_status_with_webex_error_body(emu: RunningWebexEmulator, status: int) -> None:
    emu.control({"errors": [{"status": status, "method": "GET", "retryAfter": 3}]})
    with pytest.raises(RestError) as caught:
        wxc(emu, emu.token(ALICE)).people.me()
    response = caught.value.response
    assert response.status_code == status and response.headers["Retry-After"] == "3"
    assert caught.value.detail.tracking_id == response.headers["trackingid"]
    assert wxc(emu, emu.token(ALICE)).people.me()  # count 1: consumed


def test_latency_is_injected(emu: RunningWebexEmulator, http: httpx.Client) -> None:
    assert http.post("/_emulator/control", json={"latency_ms": 80}).json() == {"ok": True}
    started = time.perf_counter()
    assert http.get("/v1/people/me", headers={
        "Authorization": f"Bearer {emu.token(ALICE)}"}).status_code == 200
    assert time.perf_counter() - started >= 0.08
    answer = http.post("/_emulator/control", json={"no_such_key": 1})
    assert answer.status_code == 400 and "no_such_key" in answer.json()["error"]


def test_org_owned_meetings_webhook_sees_started_and_ended(emu: RunningWebexEmulator,
                                                           receiver: Receiver) -> None:
    admin = wxc(emu, emu.admin_token)
    admin.webhook.create(name="org", target_url=receiver.url,
                         resource=WebhookResource("meetings"), event=WebhookEventType("all"),
                         owned_by="org")
    meeting = admin.meetings.create(title="t", start="2030-01-01T10:00:00Z",
                                    end="2030-01-01T11:00:00Z", host_email=BOB)
    emu.control({"meeting_event": {"meetingId": meeting.id, "event": "started"}})
    emu.control({"meeting_event": {"meetingId": meeting.id, "event": "ended"}})
    bodies = [r["body"] for r in receiver.wait_for(3)]
    assert [b["event"] for b in bodies] == ["created", "started", "ended"]
    assert {b["data"]["hostEmail"] for b in bodies} == {BOB}
    with pytest.raises(ValueError, match="meetingId"):
        emu.control({"meeting_event": {"meetingId": "nope", "event": "started"}})


def test_webhook_creation_rules_from_the_reference(emu: RunningWebexEmulator,
                                                   http: httpx.Client,
                                                   receiver: Receiver) -> None:
    def create(token: str, **extra: str) -> httpx.Response:
        return http.post("/v1/webhooks", headers={"Authorization": f"Bearer {token}"},
                         json={"name": "w", "targetUrl": receiver.url, "resource": "meetings",
                               "event": "all", **extra})

    no_read = emu.token(ALICE, ["spark:messages_read"])
    assert create(no_read).status_code == 403  # needs a read scope on meetings
    admin = emu.admin_token
    assert create(admin, filter=f"hostEmail={BOB}").status_code == 400  # needs ownedBy org
    assert create(admin, filter=f"hostEmail={BOB}", ownedBy="org").status_code == 200
    wxc(emu, admin).meetings.create(title="t", start="2030-01-01T10:00:00Z",
                                    end="2030-01-01T11:00:00Z", host_email=ALICE)
    wxc(emu, admin).meetings.create(title="t", start="2030-01-01T10:00:00Z",
                                    end="2030-01-01T11:00:00Z", host_email=BOB)
    emu.wait_for_webhooks()
    assert [r["body"]["data"]["hostEmail"] for r in receiver.received] == [BOB]
