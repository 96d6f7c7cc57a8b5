"""End to end: admin API → activation → sync → meetings list, over real HTTP both ways."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import anyio
import httpx
import pytest

from hybrid_calendar import hookimpl
from hybrid_calendar.engine import notify, sweeps
from hybrid_calendar.engine.presence import poll_presence
from hybrid_calendar.errors import TransientError
from hybrid_calendar.models import JoinInfo, NotificationKind
from hybrid_calendar_google.push_inbox import inbox

from .conftest import ALICE, BOB, CAROL, Stack

pytestmark = pytest.mark.anyio


def at(hours: float, minutes: int = 30, **extra: Any) -> dict[str, Any]:
    start = (datetime.now(UTC) + timedelta(hours=hours)).replace(microsecond=0)
    return {"start": {"dateTime": start.isoformat(), "timeZone": "Europe/Berlin"},
            "end": {"dateTime": (start + timedelta(minutes=minutes)).isoformat(),
                    "timeZone": "Europe/Berlin"}, **extra}


async def test_activation_syncs_the_retention_window(stack: Stack) -> None:
    emu = stack.emu.state
    emu.insert_event(ALICE, at(-24 * 9, summary="Too old"))
    emu.insert_event(ALICE, at(-24 * 2, summary="Last week"))
    emu.insert_event(ALICE, at(2, summary="Design review", description=(
        "Join: https://us02web.zoom.us/j/81234567890?pwd=abc")))
    emu.insert_event(ALICE, at(24 * 40, summary="Too far"))
    emu.insert_event(ALICE, at(24, summary="Weekly", recurrence=["RRULE:FREQ=WEEKLY;COUNT=10"],
                               location="https://teams.microsoft.com/l/meetup-join/19%3am"))
    user = await stack.activate(ALICE)
    assert (user["state"], user["reason"]) == ("active", None)
    meetings = await stack.meetings(ALICE)
    titles = [m["title"] for m in meetings]
    assert "Too old" not in titles and "Too far" not in titles
    assert titles.count("Weekly") == 5  # weekly instances within 31 days
    assert {"Last week", "Design review"} <= set(titles)
    zoom = next(m for m in meetings if m["title"] == "Design review")
    assert zoom["join"]["provider"] == "zoom"
    assert zoom["join"]["url"] == "https://us02web.zoom.us/j/81234567890?pwd=abc"
    assert zoom["join"]["dial"] == "81234567890@zoomcrc.com"


async def test_push_notifications_drive_incremental_sync(stack: Stack) -> None:
    event = stack.emu.state.insert_event(ALICE, at(3, summary="Planning"))
    await stack.activate(ALICE)
    lists_before = len(stack.calls(ALICE, "GET", "/events"))
    stack.emu.state.patch_event(ALICE, event["id"], {"summary": "Planning (moved)"})
    await stack.idle()
    assert [m["title"] for m in await stack.meetings(ALICE)] == ["Planning (moved)"]
    assert len(stack.calls(ALICE, "GET", "/events")) == lists_before + 1  # one incremental
    stack.emu.state.delete_event(ALICE, event["id"])
    await stack.idle()
    assert await stack.meetings(ALICE) == []


async def test_only_active_users_are_ever_called(stack: Stack) -> None:
    stack.emu.state.insert_event(BOB, at(1, summary="Bob's own"))
    stack.emu.state.insert_event(ALICE, at(1, summary="Alice's", attendees=[{"email": BOB}]))
    await stack.activate(ALICE)
    await sweeps.run_sweep(stack.gateway)
    await stack.idle()
    assert stack.calls(ALICE)
    assert stack.calls(BOB) == []


async def test_revoked_delegation_moves_user_to_error_and_stops_polling(stack: Stack) -> None:
    await stack.activate(ALICE)
    stack.emu.state.revoke_delegation(ALICE)
    stack.emu.control({"expire_access_tokens": ALICE})
    response = await stack.admin.post(f"/api/v1/users/{stack.user_ids[ALICE]}/sync")
    assert response.status_code == 202
    await stack.idle()
    user = await stack.user(ALICE)
    assert user["state"] == "error"
    assert user["reason"] and ALICE not in user["reason"]
    calls = len(stack.emu.state.request_log)
    await sweeps.run_sweep(stack.gateway)
    await stack.idle()
    assert len(stack.calls(ALICE)) == len([r for r in stack.emu.state.request_log[:calls]
                                           if r.user == ALICE])


async def test_unknown_user_activation_fails_with_a_reason(stack: Stack) -> None:
    user = await stack.activate("mallory@example.com")
    assert user["state"] == "error"
    assert user["reason"]


async def test_expired_sync_token_triggers_a_full_resync(stack: Stack) -> None:
    first = stack.emu.state.insert_event(ALICE, at(1, summary="One"))
    await stack.activate(ALICE)
    stack.emu.state.invalidate_sync_tokens(ALICE)
    stack.emu.state.patch_event(ALICE, first["id"], {"summary": "One, renamed"})
    stack.emu.state.insert_event(ALICE, at(5, summary="Two"))
    await stack.idle()
    assert sorted(m["title"] for m in await stack.meetings(ALICE)) == ["One, renamed", "Two"]
    assert any(r.status == 410 for r in stack.calls(ALICE, "GET", "/events"))


async def test_rate_limits_and_server_errors_are_ridden_out(stack: Stack) -> None:
    stack.emu.state.insert_event(ALICE, at(1, summary="Survivor"))
    stack.emu.control({"errors": [{"status": 429, "count": 2, "path": "/events$"},
                                  {"status": 403, "reason": "userRateLimitExceeded",
                                   "count": 1, "path": "/events$"},
                                  {"status": 503, "count": 1, "path": "/events$"}]})
    await stack.activate(ALICE)
    assert await stack.meetings(ALICE) == []  # the first sync failed: retried later
    assert await stack.run_retries() == 4  # one engine retry per failure, on the clock
    assert [m["title"] for m in await stack.meetings(ALICE)] == ["Survivor"]
    statuses = [r.status for r in stack.calls(ALICE, "GET", "/events")]
    assert statuses == [429, 429, 403, 503, 200]


async def test_safety_resync_catches_dropped_notifications(stack: Stack) -> None:
    event = stack.emu.state.insert_event(ALICE, at(1, summary="Before"))
    await stack.activate(ALICE)
    stack.emu.control({"drop_notifications": 1.0})
    stack.emu.state.patch_event(ALICE, event["id"], {"summary": "After"})
    await stack.idle()
    assert [m["title"] for m in await stack.meetings(ALICE)] == ["Before"]
    await sweeps.resync_quiet_users(stack.gateway)  # synced a moment ago: not quiet yet
    await stack.idle()
    assert [m["title"] for m in await stack.meetings(ALICE)] == ["Before"]
    quiet = float(stack.gateway.config.get("sync", "safety_resync_minutes"))
    stack.clock.advance(timedelta(minutes=quiet))
    await sweeps.resync_quiet_users(stack.gateway)
    await stack.idle()
    assert [m["title"] for m in await stack.meetings(ALICE)] == ["After"]


async def test_keyword_creates_one_meeting_and_the_update_is_a_fixpoint(stack: Stack) -> None:
    stack.emu.state.set_setting(ALICE, "locale", "de")
    event = stack.emu.state.insert_event(ALICE, at(4, summary="Kundentermin",
                                                   location="Raum 4 @meet",
                                                   description="Agenda: Angebot",
                                                   colorId="5"))
    await stack.activate(ALICE)
    stored = stack.emu.state.get_event(ALICE, event["id"])
    meetings = await stack.meetings(ALICE)
    assert meetings[0]["join"]["provider"] == "meet"
    url = meetings[0]["join"]["url"]
    assert url.startswith("https://meet.google.com/")
    assert stored["conferenceData"]["entryPoints"][0]["uri"] == url  # Google shows it
    assert stored["location"] == meetings[0]["location"] == "Raum 4"  # keyword taken out
    assert stored["description"] == "Agenda: Angebot"  # organiser's text untouched
    assert stored["colorId"] == "5"  # the update sent back what it listed
    writes = [r for r in stack.calls(ALICE) if r.method in ("PUT", "PATCH")
              or (r.method == "POST" and not r.path.endswith("/watch"))]
    assert [(r.operation, r.units) for r in writes] == [("calendar.events.update", 1)]

    # The organiser edits the title: the gateway syncs, writes nothing, creates nothing.
    stack.emu.state.patch_event(ALICE, event["id"], {"summary": "Kundentermin (neu)"})
    await stack.idle()
    assert len(stack.calls(ALICE, "PUT")) == 1
    meetings = await stack.meetings(ALICE)
    assert meetings[0]["title"] == "Kundentermin (neu)" and meetings[0]["join"]["url"] == url


async def test_vacation_responder_sets_presence(stack: Stack) -> None:
    now = datetime.now(UTC)
    stack.emu.state.set_vacation(CAROL, {
        "enableAutoReply": True, "startTime": str(int((now - timedelta(hours=1)).timestamp()
                                                      * 1000)),
        "endTime": str(int((now + timedelta(days=2)).timestamp() * 1000))})
    await stack.activate(CAROL)  # presence is read at activation, not only by the sweep
    presence = stack.sink.of_kind(NotificationKind.PRESENCE)
    assert [n.payload["out_of_office"] for n in presence] == [True]
    listed = (await stack.admin.get(f"/api/v1/users/{stack.user_ids[CAROL]}/meetings")).json()
    assert listed["out_of_office"] is True
    await poll_presence(stack.gateway)  # not due again yet: nothing new
    assert len(stack.sink.of_kind(NotificationKind.PRESENCE)) == 1
    stack.emu.state.set_vacation(CAROL, {"enableAutoReply": False})
    stack.gateway.memory.presence_polled.clear()
    await poll_presence(stack.gateway)
    assert [n.payload["out_of_office"] for n in stack.sink.of_kind(
        NotificationKind.PRESENCE)] == [True, False]


async def test_join_button_is_delivered_once_and_retried_on_failure(stack: Stack) -> None:
    stack.emu.state.insert_event(ALICE, at(0.05, summary="Starting now", location=(
        "https://acme.webex.com/acme/j.php?MTID=m0123456789abcdef0123456789abcdef")))
    await stack.activate(ALICE)
    stack.sink.fail_next = 1
    await notify.deliver_due(stack.gateway)
    assert stack.sink.of_kind(NotificationKind.JOIN_BUTTON) == []
    await notify.deliver_due(stack.gateway)
    await notify.deliver_due(stack.gateway)
    buttons = stack.sink.of_kind(NotificationKind.JOIN_BUTTON)
    assert len(buttons) == 1
    assert buttons[0].payload["join"]["provider"] == "webex"


async def test_deactivation_stops_the_channel_and_forgets_data(stack: Stack) -> None:
    stack.emu.state.insert_event(ALICE, at(1, summary="Soon gone"))
    await stack.activate(ALICE)
    user_id = stack.user_ids[ALICE]
    assert await stack.gateway.store.list_channels(user_id=user_id)
    response = await stack.admin.post(f"/api/v1/users/{user_id}/deactivate")
    assert response.status_code == 202
    await stack.idle()
    assert (await stack.user(ALICE))["state"] == "inactive"
    assert await stack.gateway.store.list_channels(user_id=user_id) == []
    assert any("channels/stop" in r.path for r in stack.emu.state.request_log)
    assert await stack.meetings(ALICE) == []


async def test_webhook_rejects_unknown_channels_and_wrong_tokens(stack: Stack) -> None:
    await stack.activate(ALICE)
    channel = (await stack.gateway.store.list_channels(
        user_id=stack.user_ids[ALICE]))[0]
    async with httpx.AsyncClient(base_url=stack.base_url) as client:
        unknown = await client.post("/webhooks/google", headers={
            "X-Goog-Channel-ID": "nope", "X-Goog-Resource-State": "exists"})
        wrong = await client.post("/webhooks/google", headers={
            "X-Goog-Channel-ID": channel.id, "X-Goog-Channel-Token": "guess",
            "X-Goog-Resource-State": "exists"})
    assert unknown.status_code == 404 and wrong.status_code == 403
    assert await stack.gateway.store.job_counts() == {}


async def test_unhealthy_kms_makes_the_gateway_unready_and_stops_writes(stack: Stack) -> None:
    event = stack.emu.state.insert_event(ALICE, at(2, summary="Kept secret"))
    await stack.activate(ALICE)
    key_file = Path(stack.gateway.config.get("gateway", "data_dir")) / "kms-local.json"
    assert (await stack.admin.get("/readyz")).status_code == 200
    key_file.chmod(0o644)  # a key file others can read is refused, never used
    try:
        ready = await stack.admin.get("/readyz")
        assert ready.status_code == 503
        assert ready.json()["kms"]["healthy"] is False and ready.json()["kms"]["reason"]
        stack.emu.state.patch_event(ALICE, event["id"], {"summary": "NEVER-STORED-TITLE"})
        await stack.idle()
        assert await _has_failed_job(stack)
        raw = b"".join(p.read_bytes() for p in key_file.parent.glob("gateway.sqlite3*"))
        assert b"NEVER-STORED-TITLE" not in raw
    finally:
        key_file.chmod(0o600)
    assert (await stack.admin.get("/readyz")).status_code == 200


async def _has_failed_job(stack: Stack) -> bool:
    rows = await stack.gateway.store.call(lambda db: db.execute(
        "SELECT last_error FROM jobs WHERE last_error IS NOT NULL").fetchall())
    return any("KeyManagementError" in row[0] for row in rows)


class RecordingWebexSink:
    """Stands in for a meeting service: creates one meeting per event id."""

    def __init__(self) -> None:
        self.created: list[str] = []

    @hookimpl
    def create_meeting(self, gateway: Any, user: Any, event: Any, request: Any) -> Any:
        """Answer for the ``webex`` keyword only."""
        if request.keyword != "webex":
            return None
        self.created.append(event.id)
        return JoinInfo(provider="webex", url="https://acme.webex.com/meet/alice",
                        source="created", dial="alice@acme.webex.com")


async def test_one_user_edit_causes_exactly_one_patch(stack: Stack) -> None:
    sink = RecordingWebexSink()
    stack.gateway.pm.register(sink, name="webex-test")
    event = stack.emu.state.insert_event(ALICE, at(6, summary="Quarterly", location="Room 1"))
    await stack.activate(ALICE)
    assert stack.calls(ALICE, "PUT") == []

    stack.emu.state.patch_event(ALICE, event["id"], {"location": "Room 1 @WebEx"})  # the edit
    await stack.idle()
    assert len(stack.calls(ALICE, "PUT")) == 1
    stored = stack.emu.state.get_event(ALICE, event["id"])
    assert stored["location"] == "Room 1 https://acme.webex.com/meet/alice"
    assert "alice@acme.webex.com" in stored["description"]

    stack.emu.state.patch_event(ALICE, event["id"], {"summary": "Quarterly review"})
    await stack.idle()
    assert len(stack.calls(ALICE, "PUT")) == 1 and sink.created == [event["id"]]


class SyncGate:
    """Holds every sync inside ``fetch_changes`` until the test opens the gate."""

    def __init__(self) -> None:
        self.entered = asyncio.Event()
        self.open = asyncio.Event()

    @hookimpl(wrapper=True)
    def fetch_changes(self, gateway: Any, user: Any, cursor: Any) -> Any:
        """Wrap the provider's coroutine: signal entry, wait for the gate, then fetch."""
        fetch = yield

        async def gated() -> Any:
            self.entered.set()
            await self.open.wait()
            return await fetch

        return gated()


async def test_ten_notifications_cause_one_sync_in_flight_and_one_queued(stack: Stack) -> None:
    event = stack.emu.state.insert_event(ALICE, at(2, summary="Busy"))
    await stack.activate(ALICE)
    lists_before = len(stack.calls(ALICE, "GET", "/events"))
    gate = SyncGate()
    stack.gateway.pm.register(gate, name="sync-gate")
    try:
        stack.emu.state.patch_event(ALICE, event["id"], {"summary": "Busy 0"})
        with anyio.fail_after(10):
            await gate.entered.wait()  # the first sync is in flight
        for n in range(1, 10):
            stack.emu.state.patch_event(ALICE, event["id"], {"summary": f"Busy {n}"})
        await asyncio.to_thread(stack.emu.state.push.wait_idle, 5.0)
        await inbox(stack.gateway).drain()  # the hints held in memory, queued now
        assert await stack.gateway.store.job_counts() == {"running": 1, "queued": 1}
    finally:
        gate.open.set()
    await stack.idle()
    stack.gateway.pm.unregister(gate)
    assert len(stack.calls(ALICE, "GET", "/events")) == lists_before + 2
    assert [m["title"] for m in await stack.meetings(ALICE)] == ["Busy 9"]


async def test_transient_failures_during_activation_retry_instead_of_failing(stack: Stack
                                                                             ) -> None:
    stack.emu.control({"errors": [{"status": 503, "count": 3,
                                   "path": "/calendar/v3/users/me/settings$"}]})
    user = await stack.activate(ALICE)
    assert (user["state"], user["reason"]) == ("validating", None)  # retried later
    await stack.run_retries()
    user = await stack.user(ALICE)
    assert (user["state"], user["reason"]) == ("active", None)
    assert [r.status for r in stack.calls(ALICE, contains="/me/settings")].count(503) == 3


async def test_keyword_on_a_recurring_series_creates_one_meeting_for_the_series(
        stack: Stack) -> None:
    sink = RecordingWebexSink()
    stack.gateway.pm.register(sink, name="webex-test")
    series = stack.emu.state.insert_event(ALICE, at(24, summary="Weekly 1:1",
                                                    location="@webex",
                                                    recurrence=["RRULE:FREQ=WEEKLY;COUNT=6"]))
    await stack.activate(ALICE)
    await stack.idle()
    assert sink.created == [series["id"]]  # one meeting, for the series
    patches = stack.calls(ALICE, "PUT")
    assert len(patches) == 1 and patches[0].path.endswith(series["id"])  # the master only
    meetings = await stack.meetings(ALICE)
    assert len(meetings) == 5  # weekly instances in the 31-day window
    assert {m["join"]["url"] for m in meetings} == {"https://acme.webex.com/meet/alice"}
    assert {m["location"] for m in meetings} == {"https://acme.webex.com/meet/alice"}


async def test_keyword_on_one_instance_only_updates_that_instance(stack: Stack) -> None:
    sink = RecordingWebexSink()
    stack.gateway.pm.register(sink, name="webex-test")
    series = stack.emu.state.insert_event(ALICE, at(24, summary="Standup", location="Room 2",
                                                    recurrence=["RRULE:FREQ=DAILY;COUNT=5"]))
    await stack.activate(ALICE)
    instances = sorted((m for m in await stack.meetings(ALICE)), key=lambda m: m["start"])
    third = instances[2]["event_id"]
    stack.emu.state.patch_event(ALICE, third, {"location": "Room 2 @webex"})
    await stack.idle()
    assert sink.created == [third]
    meetings = {m["event_id"]: m for m in await stack.meetings(ALICE)}
    assert meetings[third]["join"]["url"] == "https://acme.webex.com/meet/alice"
    others = [m for event_id, m in meetings.items() if event_id != third]
    assert all(m["location"] == "Room 2" and m["join"] is None for m in others)
    assert series["id"] not in meetings  # the master is never listed, only instances


class PoisonedParser:
    """A join parser that fails on one event, as a buggy third-party plugin might."""

    @hookimpl
    def parse_join_info(self, event: Any, register: Any) -> None:
        """Raise on the poisoned event."""
        if event.summary == "Poisoned agenda":
            raise ValueError("parser bug")


async def test_an_event_that_breaks_a_plugin_is_kept_without_join_info(
        stack: Stack, caplog: pytest.LogCaptureFixture) -> None:
    stack.gateway.pm.register(PoisonedParser(), name="poisoned")
    bad = stack.emu.state.insert_event(ALICE, at(1, summary="Poisoned agenda", location=(
        "https://acme.webex.com/meet/alice")))
    stack.emu.state.insert_event(ALICE, at(2, summary="Healthy", location=(
        "https://acme.webex.com/meet/bob")))
    user = await stack.activate(ALICE)
    assert user["state"] == "active"
    meetings = {m["title"]: m for m in await stack.meetings(ALICE)}
    assert sorted(meetings) == ["Healthy", "Poisoned agenda"]  # nothing is dropped
    assert meetings["Poisoned agenda"]["join"] is None
    assert meetings["Healthy"]["join"]["url"] == "https://acme.webex.com/meet/bob"
    assert any(bad["id"] in r.getMessage() and "join detection" in r.getMessage()
               for r in caplog.records)


class FlakyWebexSink(RecordingWebexSink):
    """A meeting service that is down for its first call."""

    def __init__(self) -> None:
        super().__init__()
        self.failures = 1

    @hookimpl
    def create_meeting(self, gateway: Any, user: Any, event: Any, request: Any) -> Any:
        """Fail once with a transient error, then create meetings."""
        if request.keyword == "webex" and self.failures:
            self.failures -= 1
            raise TransientError("meeting service unavailable", status=503)
        return super().create_meeting(gateway, user, event, request)


async def test_a_transient_meeting_service_failure_is_retried_not_forgotten(
        stack: Stack) -> None:
    sink = FlakyWebexSink()
    stack.gateway.pm.register(sink, name="webex-flaky")
    event = stack.emu.state.insert_event(ALICE, at(5, summary="Retry me", location="@webex"))
    await stack.activate(ALICE)  # first sync fails on the keyword
    assert sink.failures == 0 and sink.created == []
    await stack.run_retries()  # the retry succeeds
    assert sink.created == [event["id"]]
    stored = stack.emu.state.get_event(ALICE, event["id"])
    assert stored["location"] == "https://acme.webex.com/meet/alice"
    assert len(stack.calls(ALICE, "PUT")) == 1


async def test_channels_are_renewed_before_they_expire(stack: Stack) -> None:
    await stack.activate(ALICE)
    user_id = stack.user_ids[ALICE]
    [old] = await stack.gateway.store.list_channels(user_id=user_id)
    await sweeps.renew_channels(stack.gateway)
    assert await stack.gateway.store.list_channels(user_id=user_id) == [old]  # not due yet
    # renew when less than 8 days are left: the 7-day channel is due now
    stack.gateway.config = stack.gateway.config.replace("sync", channel_renew_before_hours=192)
    await sweeps.renew_channels(stack.gateway)
    [new] = await stack.gateway.store.list_channels(user_id=user_id)
    assert new.id != old.id and new.expires_at >= old.expires_at
    assert any("channels/stop" in r.path for r in stack.calls(ALICE, "POST"))
    event = stack.emu.state.insert_event(ALICE, at(1, summary="Seen through the new channel"))
    await stack.idle()
    assert [m["event_id"] for m in await stack.meetings(ALICE)] == [event["id"]]


async def test_reactivation_replaces_the_channel_and_presence_survives_a_failing_sink(
        stack: Stack) -> None:
    now = datetime.now(UTC)
    stack.emu.state.set_vacation(CAROL, {
        "enableAutoReply": True, "startTime": str(int((now - timedelta(hours=1)).timestamp()
                                                      * 1000))})
    stack.sink.fail_next = 1  # the presence delivery at activation fails
    user = await stack.activate(CAROL)
    assert user["state"] == "active"  # activation does not depend on a sink
    assert stack.sink.of_kind(NotificationKind.PRESENCE) == []
    [first] = await stack.gateway.store.list_channels(user_id=stack.user_ids[CAROL])
    await stack.activate(CAROL)  # again: the channel is replaced, not duplicated
    [second] = await stack.gateway.store.list_channels(user_id=stack.user_ids[CAROL])
    assert second.id != first.id
    assert stack.sink.of_kind(NotificationKind.PRESENCE) == []  # pending in the outbox
    await notify.deliver_due(stack.gateway)  # the outbox retries the failed delivery
    await notify.deliver_due(stack.gateway)
    presence = stack.sink.of_kind(NotificationKind.PRESENCE)
    assert [n.payload["out_of_office"] for n in presence] == [True]  # retried, delivered once
