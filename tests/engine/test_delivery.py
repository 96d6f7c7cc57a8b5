"""The notification outbox: delivered only on a sink's receipt, retried, dead-lettered.

Sinks here are plugins registered on the real plugin manager; the outbox, store, clock and
admin API are the production ones.
"""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator, Callable, Iterable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from hybrid_calendar import hookimpl
from hybrid_calendar.app import create_app, readiness
from hybrid_calendar.builder import build_gateway, close_gateway
from hybrid_calendar.cli import main
from hybrid_calendar.clock import ManualClock
from hybrid_calendar.engine import notify
from hybrid_calendar.engine.delivery import log_delivery_coverage
from hybrid_calendar.engine.engine import Engine
from hybrid_calendar.engine.presence import update_presence
from hybrid_calendar.errors import PluginError
from hybrid_calendar.gateway import Gateway
from hybrid_calendar.loading import load_config
from hybrid_calendar.models import (
    DeliveryReceipt,
    DeliveryState,
    Meeting,
    Notification,
    NotificationKind,
    Organisation,
    OutOfOffice,
    User,
    UserState,
)

pytestmark = pytest.mark.anyio
START = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)
USER = User(id="u1", org_id="o1", email="alice@example.com", state=UserState.ACTIVE)
TOKEN = "admin-token-for-delivery-tests"
Answer = DeliveryReceipt | None | Exception


class ScriptedSink:
    """A sink plugin answering from a script (the last answer repeats)."""

    def __init__(self, kinds: Iterable[NotificationKind], *answers: Answer) -> None:
        self.kinds = tuple(kinds)
        self.answers = list(answers) or [DeliveryReceipt.delivered()]
        self.calls: list[Notification] = []

    @hookimpl
    def register_delivery_kinds(self, register: Callable[[NotificationKind], None]) -> None:
        """The kinds this sink was built with."""
        for kind in self.kinds:
            register(kind)

    @hookimpl
    async def deliver_notification(self, gateway: Gateway, notification: Notification
                                   ) -> DeliveryReceipt | None:
        """The next scripted answer."""
        self.calls.append(notification)
        answer = self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]
        if isinstance(answer, Exception):
            raise answer
        return answer


class OutOfOfficeProvider:
    """A provider plugin that only answers the vacation responder (set by the test)."""

    def __init__(self) -> None:
        self.state = OutOfOffice(enabled=False)

    @hookimpl
    def read_out_of_office(self, gateway: Gateway, user: User) -> OutOfOffice:
        """The state the test set."""
        return self.state


def _gateway(tmp_path: Path, **notifications: Any) -> Gateway:
    config, pm = load_config(None, overrides={
        "plugins": {"enabled": ["kms_local"], "load_entrypoints": False},
        "gateway": {"data_dir": str(tmp_path), "admin_token": TOKEN},
        "notifications": {"retry_base_seconds": 10.0, "retry_cap_seconds": 60.0,
                          **notifications}}, environ={})
    return build_gateway(config, pm, clock=ManualClock(START))


@pytest.fixture
async def gateway(tmp_path: Path) -> AsyncIterator[Gateway]:
    gw = _gateway(tmp_path)
    await gw.store.open()
    await gw.store.put_organisation(Organisation(id="o1", name="Org", domain="example.com"))
    await gw.store.put_user(USER)
    try:
        yield gw
    finally:
        await close_gateway(gw)


def clock_of(gateway: Gateway) -> ManualClock:
    assert isinstance(gateway.clock, ManualClock)
    return gateway.clock


def join_meeting(start: datetime) -> Meeting:
    from hybrid_calendar.models import JoinInfo

    return Meeting(user_id="u1", event_id="e1", calendar_id="primary", status="confirmed",
                   start=start, end=start + timedelta(minutes=30), title="Standup",
                   join=JoinInfo(provider="webex", url="https://a.webex.com/j/1",
                                 source="location"))


async def states(gateway: Gateway) -> list[tuple[str, str]]:
    return [(n.key, str(n.state)) for n in await gateway.store.list_notifications(USER)]


async def test_without_a_sink_nothing_is_marked_sent_and_health_says_so(
        gateway: Gateway, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    assert await notify.notify_now(gateway, USER, NotificationKind.PRESENCE,
                                   {"out_of_office": True}, "p1") is DeliveryState.PENDING
    await notify.deliver_due(gateway)
    assert await states(gateway) == [("p1", "pending")]
    checks = await readiness(gateway)
    assert checks["delivery"]["kinds_without_sink"] == [
        "meetings_changed", "join_button", "presence",
        "join_button_withdrawn"]
    gateway.engine = Engine(gateway)
    await gateway.engine.start()
    transport = httpx.ASGITransport(app=create_app(gateway, start_engine=False))
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://gw", headers={
                "Authorization": f"Bearer {TOKEN}"}) as client:  # details: admins only
            response = await client.get("/readyz")
    finally:
        await gateway.engine.stop()
    assert response.json()["delivery"]["kinds_without_sink"] == [
        "meetings_changed", "join_button", "presence",
        "join_button_withdrawn"]
    assert response.status_code == 200 and response.json()["ready"] is True  # still ready
    assert main(["plugins"]) == 0  # the default plugins: the Webex sink is one of them
    printed = json.loads(capsys.readouterr().out)
    assert printed["delivery"]["kinds_without_sink"] == []  # the people sinks take them all
    assert printed["delivery"]["sinks"]["join_button"] == ["people", "people.webhook_sink",
                                                           "webex"]

    sink = ScriptedSink([NotificationKind.PRESENCE])
    gateway.pm.register(sink, name="late-sink")  # enabled later: the pending one goes out
    await notify.deliver_due(gateway)
    assert [n.key for n in sink.calls] == ["p1"]
    assert await states(gateway) == [("p1", "delivered")]
    checks = await readiness(gateway)
    assert checks["delivery"]["sinks"]["presence"] == ["late-sink"]
    assert "presence" not in checks["delivery"]["kinds_without_sink"]


async def test_start_up_log_names_kinds_without_a_sink(
        gateway: Gateway, caplog: pytest.LogCaptureFixture) -> None:
    gateway.pm.register(ScriptedSink([NotificationKind.JOIN_BUTTON]), name="buttons")
    app = create_app(gateway, start_engine=False)
    await gateway.store.close()  # the lifespan opens it again
    with caplog.at_level(logging.WARNING, logger="hybrid_calendar.engine.delivery"):
        async with app.router.lifespan_context(app):
            pass
    withdrawn, pending = [r.getMessage() for r in caplog.records
                          if "no enabled plugin" in r.getMessage()]
    assert "kind join_button_withdrawn: a delivered Join button stays" in withdrawn
    assert "meetings_changed, presence:" in pending and "join_button" not in pending


async def test_a_sink_declaring_no_kinds_is_never_called_and_logged(
        gateway: Gateway, caplog: pytest.LogCaptureFixture) -> None:
    silent = ScriptedSink([])
    gateway.pm.register(silent, name="silent")
    with caplog.at_level(logging.WARNING, logger="hybrid_calendar.engine.delivery"):
        log_delivery_coverage(gateway)
    assert any("plugin silent implements deliver_notification but declares no kinds"
               in r.getMessage() for r in caplog.records)
    await notify.notify_now(gateway, USER, NotificationKind.PRESENCE, {}, "p1")
    assert silent.calls == [] and await states(gateway) == [("p1", "pending")]


async def test_only_a_delivered_receipt_marks_delivered(gateway: Gateway) -> None:
    skipping = ScriptedSink([NotificationKind.PRESENCE], None)
    gateway.pm.register(skipping, name="skipping")
    state = await notify.notify_now(gateway, USER, NotificationKind.PRESENCE, {}, "p1")
    assert state is DeliveryState.SKIPPED and await states(gateway) == [("p1", "skipped")]
    [item] = await gateway.store.list_notifications(USER)
    assert item.sent_at is None

    serving = ScriptedSink([NotificationKind.PRESENCE])
    gateway.pm.register(serving, name="serving")
    state = await notify.notify_now(gateway, USER, NotificationKind.PRESENCE, {}, "p2")
    assert state is DeliveryState.DELIVERED
    items = {n.key: n for n in await gateway.store.list_notifications(USER)}
    assert items["p1"].state is DeliveryState.SKIPPED  # not pending: not superseded
    item = items["p2"]
    assert item.sent_at == START
    assert item.deliveries["skipping"].state is DeliveryState.SKIPPED
    assert item.deliveries["serving"].state is DeliveryState.DELIVERED


async def test_retries_follow_retry_after_and_survive_a_restart_then_dead_letter(
        gateway: Gateway, tmp_path: Path) -> None:
    flaky = ScriptedSink([NotificationKind.JOIN_BUTTON],
                         DeliveryReceipt.retry_later("Webex 429", retry_after=30))
    gateway.pm.register(flaky, name="flaky")
    start = START + timedelta(minutes=5)
    await notify.schedule_join_buttons(gateway, USER, [join_meeting(start)])
    await notify.deliver_due(gateway)  # due at start - 5 min = now
    assert len(flaky.calls) == 1
    clock = clock_of(gateway)
    clock.advance(timedelta(seconds=29))
    await notify.deliver_due(gateway)
    assert len(flaky.calls) == 1  # retry_after not over yet
    clock.advance(timedelta(seconds=1))
    await notify.deliver_due(gateway)
    assert len(flaky.calls) == 2

    # a restart: a new gateway on the same files keeps the attempt count
    await close_gateway(gateway)
    again = _gateway(tmp_path, max_attempts=3)
    clock_of(again).set(clock.now() + timedelta(seconds=30))
    again.pm.register(flaky, name="flaky")
    await again.store.open()
    await notify.deliver_due(again)
    assert len(flaky.calls) == 3
    [item] = await again.store.list_notifications(USER)
    record = item.deliveries["flaky"]
    assert (item.state, record.state, record.attempts) == (
        DeliveryState.DEAD, DeliveryState.DEAD, 3)
    assert record.reason == "gave up after 3 attempts: Webex 429"
    clock_of(again).advance(timedelta(hours=1))
    await notify.deliver_due(again)
    assert len(flaky.calls) == 3  # a dead letter is not retried

    transport = httpx.ASGITransport(app=create_app(again, start_engine=False))
    async with httpx.AsyncClient(transport=transport, base_url="http://gw", headers={
            "Authorization": f"Bearer {TOKEN}"}) as admin:
        body = (await admin.get("/api/v1/users/u1/dead-letters")).json()
        bad = await admin.get("/api/v1/users/u1/notifications?state=lost")
    [letter] = body["dead_letters"]
    assert (letter["kind"], letter["state"]) == ("join_button", "dead")
    assert letter["deliveries"] == [{
        "sink": "flaky", "state": "dead", "attempts": 3,
        "reason": "gave up after 3 attempts: Webex 429", "next_attempt_at": None,
        "updated_at": (START + timedelta(seconds=60)).isoformat()}]
    assert "Standup" not in json.dumps(body)  # the payload is not shown
    assert bad.status_code == 400
    await close_gateway(again)


async def test_each_sink_is_delivered_once_per_key(gateway: Gateway) -> None:
    steady = ScriptedSink([NotificationKind.MEETINGS_CHANGED])
    shaky = ScriptedSink([NotificationKind.MEETINGS_CHANGED], RuntimeError("connection reset"),
                         DeliveryReceipt.delivered())
    gateway.pm.register(steady, name="steady")
    gateway.pm.register(shaky, name="shaky")
    state = await notify.notify_now(gateway, USER, NotificationKind.MEETINGS_CHANGED,
                                    {"full_sync": True}, "m1")
    assert state is DeliveryState.PENDING  # one sink still owes it
    [item] = await gateway.store.list_notifications(USER)
    assert item.deliveries["shaky"].reason == "RuntimeError: connection reset"
    clock_of(gateway).advance(timedelta(seconds=60))  # past the capped backoff
    await notify.deliver_due(gateway)
    assert [n.key for n in steady.calls] == ["m1"]  # not called again
    assert [n.key for n in shaky.calls] == ["m1", "m1"]
    assert await states(gateway) == [("m1", "delivered")]


async def test_permanent_failure_is_a_dead_letter_at_once(gateway: Gateway) -> None:
    sink = ScriptedSink([NotificationKind.PRESENCE],
                        DeliveryReceipt.failed("no Webex account for this person"))
    gateway.pm.register(sink, name="refusing")
    state = await notify.notify_now(gateway, USER, NotificationKind.PRESENCE, {}, "p1")
    assert state is DeliveryState.DEAD
    [letter] = await gateway.store.list_notifications(USER, state=DeliveryState.DEAD)
    assert letter.deliveries["refusing"].reason == "no Webex account for this person"
    assert letter.deliveries["refusing"].attempts == 1


async def test_a_join_button_is_never_sent_after_its_meeting_ended(gateway: Gateway) -> None:
    start = START + timedelta(hours=1)
    key = f"u1|e1|{start.isoformat()}"
    await notify.schedule_join_buttons(gateway, USER, [join_meeting(start)])
    clock_of(gateway).advance(timedelta(hours=2))  # the process was down all along
    await notify.deliver_due(gateway)
    assert await states(gateway) == [(key, "pending")]  # no sink: never given up either

    sink = ScriptedSink([NotificationKind.JOIN_BUTTON])
    gateway.pm.register(sink, name="buttons")
    await notify.deliver_due(gateway)
    assert sink.calls == [] and await states(gateway) == [(key, "dead")]
    [letter] = await gateway.store.list_notifications(USER, state=DeliveryState.DEAD)
    assert letter.deliveries["buttons"].reason == "the meeting ended before delivery"


async def test_a_join_button_retried_until_its_meeting_ended_is_a_dead_letter(
        gateway: Gateway) -> None:
    sink = ScriptedSink([NotificationKind.JOIN_BUTTON],
                        DeliveryReceipt.retry_later("Webex 503", retry_after=3600))
    gateway.pm.register(sink, name="buttons")
    await notify.schedule_join_buttons(gateway, USER, [join_meeting(START + timedelta(
        minutes=5))])
    await notify.deliver_due(gateway)
    clock_of(gateway).advance(timedelta(minutes=40))  # ended before the retry fell due
    await notify.deliver_due(gateway)
    assert len(sink.calls) == 1
    [letter] = await gateway.store.list_notifications(USER, state=DeliveryState.DEAD)
    record = letter.deliveries["buttons"]
    assert (record.attempts, record.reason) == (
        1, "the meeting ended before delivery (last attempt: Webex 503)")


async def test_presence_goes_through_the_outbox_newest_state_wins(gateway: Gateway) -> None:
    provider = OutOfOfficeProvider()
    gateway.pm.register(provider, name="ooo-provider")
    sink = ScriptedSink([NotificationKind.PRESENCE], DeliveryReceipt.retry_later("503"),
                        DeliveryReceipt.delivered())
    gateway.pm.register(sink, name="presence-sink")
    provider.state = OutOfOffice(enabled=True)
    assert await update_presence(gateway, USER, START) is True
    assert (await gateway.store.get_sync_state("u1")).out_of_office is True  # state read
    assert await states(gateway) == [(f"presence:u1:1:{START.isoformat()}", "pending")]
    provider.state = replace(provider.state, enabled=False)
    later = START + timedelta(minutes=1)
    assert await update_presence(gateway, USER, later) is False
    assert await states(gateway) == [(f"presence:u1:0:{later.isoformat()}", "delivered")]
    assert [n.payload["out_of_office"] for n in sink.calls] == [True, False]


class UnknownKindSink:
    """Declares a kind the core does not have."""

    @hookimpl
    def register_delivery_kinds(self, register: Callable[[str], None]) -> None:
        """A made-up kind."""
        register("carrier_pigeon")

    @hookimpl
    def deliver_notification(self, gateway: Gateway, notification: Notification) -> None:
        """Never reached."""


async def test_an_unknown_declared_kind_is_an_error_naming_the_sink(gateway: Gateway) -> None:
    gateway.pm.register(UnknownKindSink(), name="pigeons")
    with pytest.raises(PluginError, match="carrier_pigeon") as caught:
        gateway.hooks.sink_kinds()
    assert "pigeons" in str(caught.value)


async def test_one_pass_delivers_every_due_batch_concurrently(
        gateway: Gateway, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(notify, "BATCH", 2)
    sink = ScriptedSink([NotificationKind.JOIN_BUTTON])
    gateway.pm.register(sink, name="buttons")
    start = START + timedelta(minutes=5)
    meetings = [replace(join_meeting(start), event_id=f"e{i}") for i in range(5)]
    await notify.schedule_join_buttons(gateway, USER, meetings)
    await notify.deliver_due(gateway)
    assert sorted(n.payload["event_id"] for n in sink.calls) == [f"e{i}" for i in range(5)]
    assert {state for _, state in await states(gateway)} == {"delivered"}
