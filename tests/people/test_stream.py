"""The live stream: events through the real hook, Last-Event-ID replay, never twice."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from hybrid_calendar.clock import ManualClock
from hybrid_calendar.engine import notify
from hybrid_calendar.models import DeliveryReceipt, Notification, NotificationKind, User
from hybrid_calendar.people.service import people_service

from .conftest import NOW, PeopleStack, meeting, offer, running_stack
from .sse import open_stream

pytestmark = pytest.mark.anyio


async def _presence(stack: PeopleStack, user: User, on: bool, key: str) -> None:
    await offer(stack, Notification(
        kind=NotificationKind.PRESENCE, user=user, payload={"out_of_office": on}, key=key))


async def test_join_buttons_presence_and_changes_arrive_live(stack: PeopleStack) -> None:
    bob, carol = await stack.add_user("bob"), await stack.add_user("carol")
    soon = meeting(bob, "m1", "Design review", NOW + timedelta(minutes=10))
    await stack.put_meetings(bob, [soon])
    await notify.schedule_join_buttons(stack.gateway, bob, [soon])
    async with stack.client(await stack.token(bob)) as client, open_stream(client) as events:
        assert await events.until_ping() == []
        await _presence(stack, carol, True, "carol-1")  # someone else's: not on bob's stream
        await _presence(stack, bob, True, "bob-1")
        got = await events.next()
        assert (got.event, got.data) == ("presence", {"out_of_office": True})
        await notify.deliver_due(stack.gateway)  # not due yet
        stack.clock.advance(timedelta(minutes=5))
        await notify.deliver_due(stack.gateway)
        button = await events.next()
        assert button.event == "join_button"
        assert button.data["title"] == "Design review"
        assert button.data["join"]["url"] == "https://example.webex.com/meet/room"
        assert int(button.id or 0) > int(got.id or 0)
        await notify.deliver_due(stack.gateway)  # sent once
        await offer(stack, Notification(
            kind=NotificationKind.MEETINGS_CHANGED, user=bob, payload={"full_sync": False},
            key="meetings:bob:c2"))
        changed = await events.next()
        assert changed.event == "meetings"
        assert await events.until_ping() == []


async def test_a_redelivered_notification_is_streamed_once(stack: PeopleStack) -> None:
    bob = await stack.add_user("bob")
    async with stack.client(await stack.token(bob)) as client, open_stream(client) as events:
        await events.until_ping()
        for on, key in ((True, "same-key"), (True, "same-key"), (True, "same-key"),
                        (False, "other-key")):  # at-least-once: the core may repeat a call
            receipt = await stack.gateway.hooks.deliver_notification(
                stack.gateway, Notification(kind=NotificationKind.PRESENCE, user=bob,
                                            payload={"out_of_office": on}, key=key), "people")
            assert receipt == DeliveryReceipt.delivered()
        received = [await events.next(), await events.next()]
        assert [r.data["out_of_office"] for r in received] == [True, False]
        assert await events.until_ping() == []


async def test_reconnecting_with_last_event_id_gets_what_was_missed_never_twice(
        stack: PeopleStack) -> None:
    bob = await stack.add_user("bob")
    async with stack.client(await stack.token(bob)) as client:
        async with open_stream(client) as events:
            await events.until_ping()
            await _presence(stack, bob, True, "k1")
            first = await events.next()
        for n in (2, 3, 4):  # while disconnected
            await _presence(stack, bob, n % 2 == 0, f"k{n}")
        async with open_stream(client, first.id) as events:
            missed = [await events.next() for _ in range(3)]
            assert [m.data["out_of_office"] for m in missed] == [True, False, True]
            assert [int(m.id or 0) for m in missed] == sorted({int(m.id or 0) for m in missed})
            await _presence(stack, bob, False, "k5")
            live = await events.next()
            assert live.data == {"out_of_office": False}
            assert await events.until_ping() == []
        async with open_stream(client, live.id) as events:
            assert await events.until_ping() == []  # nothing new: nothing sent again
        async with open_stream(client, "0") as events:
            everything = [await events.next() for _ in range(5)]
            assert [e.id for e in everything][-1] == live.id


async def test_events_past_retention_ask_the_client_to_reload(stack: PeopleStack) -> None:
    bob = await stack.add_user("bob")
    await _presence(stack, bob, True, "old")
    stack.clock.advance(timedelta(hours=49))
    await _presence(stack, bob, False, "new")
    assert await people_service(stack.gateway).purge_outbox() == 1
    async with stack.client(await stack.token(bob)) as client, \
            open_stream(client, "0") as events:
        reset = await events.next()
        assert reset.event == "reset" and reset.id is None
        kept = await events.next()
        assert kept.data == {"out_of_office": False}
    async with stack.client(await stack.token(bob)) as client:
        response = await client.get("/api/v1/me/stream", headers={"Last-Event-ID": "x"})
        assert response.status_code == 400


async def test_the_outbox_survives_a_restart(tmp_path: Path, store_url: str | None) -> None:
    clock = ManualClock(NOW)
    async with running_stack(tmp_path, clock, store_url=store_url) as stack:
        bob = await stack.add_user("bob")
        token = await stack.token(bob)
        async with stack.client(token) as client, open_stream(client) as events:
            await events.until_ping()
            await _presence(stack, bob, True, "before")
            seen = await events.next()
        await _presence(stack, bob, False, "while-away")
    async with running_stack(tmp_path, clock, store_url=store_url) as stack, \
            stack.client(token) as client, \
            open_stream(client, seen.id) as events:
        missed = await events.next()
        assert missed.data == {"out_of_office": False}
        assert await events.until_ping() == []


async def test_a_join_button_offered_again_after_its_withdrawal_is_streamed_again(
        stack: PeopleStack) -> None:
    """The core offers a withdrawn Join button anew, under the same key, when its meeting
    holds again (accepted again, moved back): the stream sends it again, once per
    withdrawal, however often the core repeats a call."""
    bob = await stack.add_user("bob")
    button = Notification(kind=NotificationKind.JOIN_BUTTON, user=bob, key="bob|e1|t", payload={
        "event_id": "e1", "title": "Design review", "start": "2026-11-30T10:00:00+00:00",
        "join": {"url": "https://example.webex.com/meet/room"}})

    def withdrawal(sent: str) -> Notification:
        return Notification(kind=NotificationKind.JOIN_BUTTON_WITHDRAWN, user=bob,
                            key=f"withdrawn|bob|e1|t|{sent}", payload={
                                "event_id": "e1", "button": "bob|e1|t", "reason": "declined",
                                "start": "2026-11-30T10:00:00+00:00",
                                "end": "2026-11-30T10:30:00+00:00"})

    async with stack.client(await stack.token(bob)) as client, open_stream(client) as events:
        await events.until_ping()
        for notification in (button, button, withdrawal("1796000000.000000"), button, button,
                             withdrawal("1796000100.000000"), button, button):
            receipt = await stack.gateway.hooks.deliver_notification(
                stack.gateway, notification, "people")
            assert receipt == DeliveryReceipt.delivered()
        received = [await events.next() for _ in range(5)]
        assert [r.event for r in received] == [
            "join_button", "join_button_withdrawn", "join_button", "join_button_withdrawn",
            "join_button"]
        assert received[2].data == received[0].data
        assert await events.until_ping() == []
