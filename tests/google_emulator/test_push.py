"""events.watch / channels.stop and real push notifications to a loopback receiver."""

from __future__ import annotations

import itertools
import time
from typing import Any

import pytest
from googleapiclient.errors import HttpError

from hybrid_calendar_google_emulator.testing import RunningEmulator, running_emulator
from tests.google_emulator.helpers import ALICE, Receiver, timed

START, END = "2026-12-01T10:00:00Z", "2026-12-01T11:00:00Z"


def watch(cal: Any, receiver: Receiver, channel_id: str = "chan-1", **extra: Any
          ) -> dict[str, Any]:
    """Watch Alice's events."""
    body = {"id": channel_id, "type": "web_hook", "address": receiver.url,
            "token": "target=gw", **extra}
    return dict(cal.events().watch(calendarId=ALICE, body=body).execute())


def test_watch_response_shape(cal: Any, receiver: Receiver) -> None:
    before = int(time.time() * 1000)
    channel = watch(cal, receiver)
    assert set(channel) == {"kind", "id", "resourceId", "resourceUri", "token", "expiration"}
    assert channel["kind"] == "api#channel" and channel["id"] == "chan-1"
    assert isinstance(channel["expiration"], str)
    ttl = int(channel["expiration"]) - before
    assert 604_790_000 < ttl <= 604_800_000 + 1000  # 7 days default
    assert channel["resourceUri"].endswith(
        "/calendar/v3/calendars/alice%40example.com/events?alt=json")
    again = watch(cal, receiver, "chan-2", params={"ttl": "60"})
    assert again["resourceId"] == channel["resourceId"]  # stable per calendar
    primary = cal.events().watch(calendarId="primary", body={
        "id": "chan-3", "type": "web_hook", "address": receiver.url}).execute()
    assert primary["resourceId"] == channel["resourceId"]
    assert primary["resourceUri"].endswith("/calendars/primary/events?alt=json")
    assert "token" not in primary
    assert int(again["expiration"]) - before <= 61_000


def test_notifications_sync_then_exists(emu: RunningEmulator, cal: Any,
                                        receiver: Receiver) -> None:
    channel = watch(cal, receiver)
    receiver.wait_for(1)
    cal.events().insert(calendarId="primary", body=timed("x", START, END)).execute()
    event = emu.state.insert_event(ALICE, timed("y", START, END))
    emu.state.patch_event(ALICE, event["id"], {"summary": "z"})
    received = receiver.wait_for(4)
    assert len(received) == 4
    first = received[0]["headers"]
    assert first["X-Goog-Resource-State"] == "sync" and first["X-Goog-Message-Number"] == "1"
    assert [r["headers"]["X-Goog-Resource-State"] for r in received[1:]] == ["exists"] * 3
    numbers = [int(r["headers"]["X-Goog-Message-Number"]) for r in received]
    assert numbers == sorted(numbers) and len(set(numbers)) == 4
    for record in received:
        headers = record["headers"]
        assert record["body"] == b"" and headers["Content-Length"] == "0"
        assert headers["X-Goog-Channel-ID"] == "chan-1"
        assert headers["X-Goog-Channel-Token"] == "target=gw"
        assert headers["X-Goog-Resource-ID"] == channel["resourceId"]
        assert headers["X-Goog-Resource-URI"] == channel["resourceUri"]
        assert headers["X-Goog-Channel-Expiration"].endswith("GMT")
        assert headers["User-Agent"].startswith("APIs-Google")


def test_message_numbers_not_consecutive(emu: RunningEmulator, cal: Any,
                                         receiver: Receiver) -> None:
    watch(cal, receiver)
    for i in range(10):
        emu.state.insert_event(ALICE, timed(f"e{i}", START, END))
    received = receiver.wait_for(11)
    numbers = [int(r["headers"]["X-Goog-Message-Number"]) for r in received]
    gaps = {b - a for a, b in itertools.pairwise(numbers)}
    assert min(gaps) >= 1 and gaps != {1}


def test_retry_only_on_5xx_listed(emu: RunningEmulator, cal: Any, receiver: Receiver) -> None:
    receiver.statuses = [200, 503, 502, 200, 404]
    watch(cal, receiver)
    receiver.wait_for(1)
    emu.state.insert_event(ALICE, timed("a", START, END))
    receiver.wait_for(4)
    emu.state.insert_event(ALICE, timed("b", START, END))
    received = receiver.wait_for(5)
    deliveries = emu.wait_for_notifications()
    assert [r["status"] for r in received] == [200, 503, 502, 200, 404]
    numbers = [r["headers"]["X-Goog-Message-Number"] for r in received[1:4]]
    assert len(set(numbers)) == 1  # the same message retried
    assert [(d.status, d.attempts) for d in deliveries] == [(200, 1), (200, 3), (404, 1)]
    # every message was handled (wait_for_notifications): a retry of the 404 would have
    # been made before its delivery was recorded with one attempt
    assert len(receiver.received) == 5  # 404 is not retried


def test_stop_ends_delivery(emu: RunningEmulator, cal: Any, receiver: Receiver) -> None:
    channel = watch(cal, receiver)
    receiver.wait_for(1)
    assert cal.channels().stop(body={"id": channel["id"],
                                     "resourceId": channel["resourceId"]}).execute() == ""
    emu.state.insert_event(ALICE, timed("a", START, END))
    emu.wait_for_notifications()
    assert len(receiver.received) == 1
    with pytest.raises(HttpError) as info:
        cal.channels().stop(body={"id": channel["id"],
                                  "resourceId": channel["resourceId"]}).execute()
    assert info.value.status_code == 404


def test_expired_channel_gets_nothing(emu: RunningEmulator, cal: Any,
                                      receiver: Receiver) -> None:
    expired = int(time.time() * 1000) - 1  # its expiration has passed: no need to wait
    channel = watch(cal, receiver, expiration=expired)
    assert int(channel["expiration"]) == expired
    emu.state.insert_event(ALICE, timed("a", START, END))
    emu.wait_for_notifications()
    assert receiver.received == []  # neither the sync message nor the change
    live = watch(cal, receiver, "chan-live")  # the same calendar, watched by a live channel
    emu.state.insert_event(ALICE, timed("b", START, END))
    emu.wait_for_notifications()
    assert {r["headers"]["X-Goog-Channel-ID"] for r in receiver.wait_for(2)} == {live["id"]}


@pytest.mark.parametrize("change", [
    {"id": "x" * 65}, {"token": "t" * 257}, {"type": "email"}, {"address": None}, {"id": None},
])
def test_watch_validation(cal: Any, receiver: Receiver, change: dict[str, Any]) -> None:
    body = {"id": "ok", "type": "web_hook", "address": receiver.url, **change}
    body = {k: v for k, v in body.items() if v is not None}
    with pytest.raises(HttpError) as info:
        cal.events().watch(calendarId=ALICE, body=body).execute()
    assert info.value.status_code == 400


def test_watch_limits_accepted(cal: Any, receiver: Receiver) -> None:
    channel = watch(cal, receiver, "c" * 64, token="t" * 256)
    assert channel["id"] == "c" * 64 and channel["token"] == "t" * 256


def test_duplicate_channel_id(cal: Any, receiver: Receiver) -> None:
    watch(cal, receiver)
    with pytest.raises(HttpError) as info:
        watch(cal, receiver)
    assert info.value.status_code == 400


def test_require_https_setting(receiver: Receiver) -> None:
    from tests.google_emulator.helpers import calendar_service

    with running_emulator(users=[ALICE], require_https=True, fresh_key=False) as strict:
        cal = calendar_service(strict)
        try:
            with pytest.raises(HttpError) as info:
                watch(cal, receiver)
            assert info.value.error_details[0]["reason"] == "push.webhookUrlNotHttps"
        finally:
            cal.close()


def test_a_watch_to_a_domain_the_project_has_not_verified_is_refused(
        receiver: Receiver) -> None:
    from tests.google_emulator.helpers import calendar_service

    with running_emulator(users=[ALICE], verified_push_domains=("gw.example.com",),
                          fresh_key=False) as strict:
        cal = calendar_service(strict)
        try:
            with pytest.raises(HttpError) as info:
                watch(cal, receiver)
            assert info.value.status_code == 401
            assert info.value.error_details[0]["reason"] == "push.webhookUrlUnauthorized"
            assert info.value.error_details[0]["message"] == (
                "Unauthorized WebHook callback channel: " + receiver.url)
            assert strict.state.channels.by_id == {}
        finally:
            cal.close()
    with running_emulator(users=[ALICE], verified_push_domains=("127.0.0.1",),
                          fresh_key=False) as verified:
        cal = calendar_service(verified)
        try:
            assert watch(cal, receiver)["id"] == "chan-1"
        finally:
            cal.close()


@pytest.mark.parametrize(("host", "domains", "verified"), [
    ("gw.example.com", None, True),
    ("gw.example.com", ("gw.example.com",), True),
    ("hooks.gw.example.com", ("gw.example.com",), True),
    ("GW.Example.COM.", ("gw.example.com",), True),
    ("evilgw.example.com", ("gw.example.com",), False),
    ("example.com", ("gw.example.com",), False),
    ("gw.example.com", (), False),
])
def test_push_host_verification(host: str, domains: tuple[str, ...] | None,
                                verified: bool) -> None:
    from hybrid_calendar_google_emulator.events_api import push_host_verified

    assert push_host_verified(host, domains) is verified


def test_drop_and_duplicate_faults(emu: RunningEmulator, cal: Any,
                                   receiver: Receiver) -> None:
    watch(cal, receiver)
    receiver.wait_for(1)
    emu.control({"drop_notifications": 1.0})
    emu.state.insert_event(ALICE, timed("a", START, END))
    deliveries = emu.wait_for_notifications()
    assert deliveries[-1].dropped and len(receiver.received) == 1
    emu.control({"drop_notifications": 0.0, "duplicate_notifications": 1.0})
    emu.state.insert_event(ALICE, timed("b", START, END))
    received = receiver.wait_for(3)
    assert received[1]["headers"]["X-Goog-Message-Number"] == \
        received[2]["headers"]["X-Goog-Message-Number"]


def test_notification_then_incremental_sync_round_trip(emu: RunningEmulator, cal: Any,
                                                       receiver: Receiver) -> None:
    token = cal.events().list(calendarId="primary").execute()["nextSyncToken"]
    watch(cal, receiver)
    receiver.wait_for(1)
    event = emu.state.insert_event(ALICE, timed("edited by the user", START, END))
    notice = receiver.wait_for(2)[1]["headers"]
    assert notice["X-Goog-Resource-State"] == "exists"
    # the notification carries no detail: the receiver syncs the resource it names
    assert notice["X-Goog-Resource-URI"].startswith(emu.base_url + "/calendar/v3/calendars/")
    changes = cal.events().list(calendarId="primary", syncToken=token).execute()
    assert [e["id"] for e in changes["items"]] == [event["id"]]
