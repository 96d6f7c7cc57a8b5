"""Start-up catch-up (issue 15, item 5): changes whose push notifications were lost while
the gateway was down are synced when it starts again, incrementally, not an hour later."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from hybrid_calendar.engine.engine import Engine
from hybrid_calendar.models import NotificationKind

from .conftest import ALICE, BOB, Stack
from .test_gateway_with_emulator import at

pytestmark = pytest.mark.anyio


async def test_start_catches_up_on_changes_made_while_down(stack: Stack) -> None:
    planning = stack.emu.state.insert_event(ALICE, at(3, summary="Planning"))
    await stack.activate(ALICE)
    await stack.activate(BOB)
    await stack.engine.stop()  # the gateway is down: its notifications are lost
    push = stack.emu.state.push
    push.options.drop_rate = 1.0
    stack.emu.state.patch_event(ALICE, planning["id"], {"summary": "Moved while down"})
    assert await asyncio.to_thread(push.wait_idle, 10)
    push.options.drop_rate = 0.0
    lists_before = len(stack.calls(ALICE, "GET", "/events"))
    bob_before = len(stack.calls(BOB, "GET", "/events"))

    stack.clock.advance(timedelta(minutes=5))  # the time the gateway was down
    restarted = Engine(stack.gateway)  # a new process's engine over the same store
    stack.gateway.engine = restarted
    await restarted.start()
    await stack.idle()

    assert [m["title"] for m in await stack.meetings(ALICE)] == ["Moved while down"]
    assert len(stack.calls(ALICE, "GET", "/events")) == lists_before + 1
    changed = stack.sink.of_kind(NotificationKind.MEETINGS_CHANGED)[-1]
    assert changed.payload["full_sync"] is False, "the catch-up is incremental"
    assert len(stack.calls(BOB, "GET", "/events")) == bob_before + 1
