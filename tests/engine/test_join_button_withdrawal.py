"""A delivered Join button whose meeting no longer holds it is withdrawn (real engine,
store and hooks, the Google emulator; the capturing sink delivers every kind), on SQLite
and on PostgreSQL."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from hybrid_calendar.engine import notify
from hybrid_calendar.models import NotificationKind
from hybrid_calendar_google_emulator.testing import RunningEmulator

from .conftest import ALICE, BOB, CaptureSink, Stack, running_stack

pytestmark = pytest.mark.anyio

ZOOM = "https://acme.zoom.us/j/12345678"


@pytest.fixture
async def stack(store_url: str | None, emulator: RunningEmulator,
                tmp_path: Path) -> AsyncIterator[Stack]:
    async with running_stack(emulator, tmp_path, database=store_url) as running:
        yield running


async def delivered_budget(stack: Stack, **extra: Any) -> dict[str, Any]:
    """Alice's "Budget" with Bob, starting in 4 minutes: both Join buttons delivered."""
    start = (stack.clock.now() + timedelta(minutes=4)).replace(microsecond=0)
    event = stack.emu.state.insert_event(ALICE, {
        "summary": "Budget", "location": ZOOM, "attendees": [{"email": BOB}],
        "start": {"dateTime": start.isoformat()},
        "end": {"dateTime": (start + timedelta(minutes=30)).isoformat()}, **extra})
    await stack.activate(ALICE)
    await stack.activate(BOB)
    await notify.deliver_due(stack.gateway)
    assert sorted(n.user.email for n in stack.sink.of_kind("join_button")) == [ALICE, BOB]
    return event


def withdrawals(stack: Stack) -> list[tuple[str, str, str]]:
    return [(n.user.email, n.payload["reason"], n.payload["button"])
            for n in stack.sink.of_kind("join_button_withdrawn")]


def move(stack: Stack, event: dict[str, Any], start: datetime) -> None:
    """Alice moves ``event`` to ``start`` (30 minutes long)."""
    stack.emu.state.patch_event(ALICE, event["id"], {
        "start": {"dateTime": start.isoformat()},
        "end": {"dateTime": (start + timedelta(minutes=30)).isoformat()}})


def button_key(stack: Stack, email: str) -> str:
    [button] = [n for n in stack.sink.of_kind("join_button") if n.user.email == email]
    return button.key


async def test_a_cancelled_meeting_withdraws_every_delivered_button(stack: Stack) -> None:
    event = await delivered_budget(stack)
    keys = {email: button_key(stack, email) for email in (ALICE, BOB)}
    stack.emu.state.delete_event(ALICE, event["id"])
    await stack.idle()
    assert sorted(withdrawals(stack)) == sorted(
        [(ALICE, "cancelled", keys[ALICE]), (BOB, "cancelled", keys[BOB])])
    [notice] = [n for n in stack.sink.of_kind("join_button_withdrawn") if n.user.email == BOB]
    assert notice.payload["event_id"] == event["id"]
    await stack.idle()  # nothing more to withdraw, and nothing twice
    assert len(withdrawals(stack)) == 2


async def test_a_decline_withdraws_and_accepting_again_brings_the_button_back(
        stack: Stack) -> None:
    event = await delivered_budget(stack)
    first = button_key(stack, BOB)
    stack.emu.state.patch_event(BOB, event["id"], {"attendeesOmitted": True, "attendees": [
        {"email": BOB, "responseStatus": "declined"}]})
    await stack.idle()
    assert withdrawals(stack) == [(BOB, "declined", first)]  # Alice's still holds

    stack.sink.delivered = [n for n in stack.sink.delivered if n.kind != "join_button"]
    stack.emu.state.patch_event(BOB, event["id"], {"attendeesOmitted": True, "attendees": [
        {"email": BOB, "responseStatus": "accepted"}]})
    await stack.idle()
    await notify.deliver_due(stack.gateway)
    assert [(n.user.email, n.key) for n in stack.sink.of_kind("join_button")] == [
        (BOB, first)]  # the same button, delivered anew


async def test_a_moved_meeting_withdraws_the_old_button_and_pops_the_new_one(
        stack: Stack) -> None:
    event = await delivered_budget(stack)
    old = button_key(stack, ALICE)
    later = stack.clock.now().replace(microsecond=0) + timedelta(hours=2)
    move(stack, event, later)
    await stack.idle()
    assert sorted(w[:2] for w in withdrawals(stack)) == [(ALICE, "moved"), (BOB, "moved")]
    assert (ALICE, "moved", old) in withdrawals(stack)
    await stack.advance(timedelta(hours=1, minutes=56))
    await notify.deliver_due(stack.gateway)
    alices = [n.key for n in stack.sink.of_kind("join_button") if n.user.email == ALICE]
    assert alices[0] == old and len(alices) == 2 and alices[1] != old


async def test_an_ended_meeting_and_an_unchanged_one_withdraw_nothing(stack: Stack) -> None:
    event = await delivered_budget(stack)
    stack.emu.state.patch_event(ALICE, event["id"], {"summary": "Budget (agenda inside)"})
    await stack.idle()
    assert withdrawals(stack) == []  # renamed: the button still holds
    await stack.advance(timedelta(minutes=40))  # the meeting is over
    stack.emu.state.delete_event(ALICE, event["id"])
    await stack.idle()
    assert withdrawals(stack) == []


async def test_a_withdrawal_not_delivered_yet_outlives_the_next_change(stack: Stack) -> None:
    """A withdrawal the sink could not take yet stays in the outbox when a later sync
    touches or deletes the same event: only pending Join buttons are replaced."""
    event = await delivered_budget(stack)
    keys = {email: button_key(stack, email) for email in (ALICE, BOB)}
    stack.sink.fail_next = 1000  # the devices are unreachable for now
    later = stack.clock.now().replace(microsecond=0) + timedelta(hours=2)
    move(stack, event, later)
    await stack.idle()
    stack.emu.state.patch_event(ALICE, event["id"], {"summary": "Budget (moved)"})
    await stack.idle()
    stack.emu.state.delete_event(ALICE, event["id"])
    await stack.idle()
    assert withdrawals(stack) == []
    stack.sink.fail_next = 0
    await notify.deliver_due(stack.gateway)
    assert sorted(withdrawals(stack)) == sorted(
        [(ALICE, "moved", keys[ALICE]), (BOB, "moved", keys[BOB])])


async def test_a_withdrawal_still_owed_is_called_off_when_the_button_holds_again(
        stack: Stack) -> None:
    """Bob declines while his devices are unreachable, then accepts again before they
    are back: the withdrawal still owed is dropped, so what they show (the button they
    got first) stays, and nothing takes away the button that holds."""
    event = await delivered_budget(stack)
    stack.sink.fail_next = 1000
    for answer in ("declined", "accepted"):
        stack.emu.state.patch_event(BOB, event["id"], {"attendeesOmitted": True, "attendees": [
            {"email": BOB, "responseStatus": answer}]})
        await stack.idle()
    stack.sink.fail_next = 0
    await notify.deliver_due(stack.gateway)
    assert withdrawals(stack) == []
    bob = await stack.gateway.store.find_user("org1", BOB)
    assert bob is not None
    bobs = await stack.gateway.store.list_notifications(bob, kind=NotificationKind.JOIN_BUTTON)
    assert [(n.key, n.state) for n in bobs] == [(button_key(stack, BOB), "delivered")]


async def test_a_meeting_moved_past_the_kept_window_withdraws_as_moved(stack: Stack) -> None:
    """Moved beyond ``sync.retention_future_days``, the meeting leaves the store like a
    deleted one, but its button is withdrawn as moved, not as cancelled."""
    event = await delivered_budget(stack)
    far = stack.clock.now().replace(microsecond=0) + timedelta(days=40)
    move(stack, event, far)
    await stack.idle()
    assert sorted(w[:2] for w in withdrawals(stack)) == [(ALICE, "moved"), (BOB, "moved")]


async def test_a_button_another_sink_still_owes_is_withdrawn_where_it_was_shown(
        stack: Stack) -> None:
    """A second sink keeps failing, so the Join buttons stay pending in the outbox
    although the first sink showed them. Cancelling the meeting must not just drop them:
    the first sink is told to withdraw, once the buttons' delivery lease has run out (an
    attempt may still be in flight)."""
    failing = CaptureSink()
    failing.fail_next = 1000
    stack.gateway.hooks.pm.register(failing, name="wall")
    event = await delivered_budget(stack)
    keys = {email: button_key(stack, email) for email in (ALICE, BOB)}
    stack.emu.state.delete_event(ALICE, event["id"])
    await stack.idle()
    await notify.deliver_due(stack.gateway)
    assert withdrawals(stack) == []  # not while an attempt may be in flight
    await stack.advance(timedelta(seconds=notify.claim_seconds(stack.gateway) + 1))
    await notify.deliver_due(stack.gateway)
    assert sorted(withdrawals(stack)) == sorted(
        [(ALICE, "cancelled", keys[ALICE]), (BOB, "cancelled", keys[BOB])])
