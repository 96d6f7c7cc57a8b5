"""A sink that never answers costs a retry, not a delivery slot for good: the core gives
each sink ``notifications.sink_timeout_seconds`` per delivery (real hook machinery, store
and emulator; the silent sink is a plugin like any other)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest

from hybrid_calendar import hookimpl
from hybrid_calendar.engine import notify
from hybrid_calendar.models import DeliveryState, Notification, NotificationKind
from hybrid_calendar_google_emulator.testing import RunningEmulator

from .conftest import ALICE, running_stack

pytestmark = pytest.mark.anyio


class SilentSink:
    """Takes Join buttons and never answers (a device behind a dead connection)."""

    def __init__(self) -> None:
        self.calls = 0

    @hookimpl
    def register_delivery_kinds(self, register: Callable[[NotificationKind], None]) -> None:
        """Join buttons."""
        register(NotificationKind.JOIN_BUTTON)

    @hookimpl
    async def deliver_notification(self, gateway: object, notification: Notification
                                   ) -> None:
        """Wait for ever."""
        self.calls += 1
        await asyncio.Event().wait()


async def test_a_sink_that_never_answers_is_retried_and_the_other_sink_delivers(
        emulator: RunningEmulator, tmp_path: Path) -> None:
    async with running_stack(emulator, tmp_path) as stack:
        silent = SilentSink()
        stack.gateway.pm.register(silent, name="silent")
        stack.gateway.config = stack.gateway.config.replace(
            "notifications", sink_timeout_seconds=0.2)
        start = (stack.clock.now() + timedelta(minutes=3)).replace(second=0, microsecond=0)
        emulator.state.insert_event(ALICE, {
            "summary": "Standup", "location": "https://acme.zoom.us/j/12345678",
            "start": {"dateTime": start.isoformat()},
            "end": {"dateTime": (start + timedelta(minutes=30)).isoformat()}})
        await stack.activate(ALICE)

        await asyncio.wait_for(notify.deliver_due(stack.gateway), 10)

        assert silent.calls == 1
        assert len(stack.sink.of_kind("join_button")) == 1  # the other sink delivered
        user = await stack.gateway.store.get_user(stack.user_ids[ALICE])
        assert user is not None
        [item] = [n for n in await stack.gateway.store.list_notifications(user)
                  if n.kind == NotificationKind.JOIN_BUTTON]
        record = item.deliveries["silent"]
        assert record.state is DeliveryState.PENDING and record.attempts == 1
        assert record.reason == "the sink did not answer within 0.2 s"
        assert record.next_attempt_at is not None  # retried (full jitter: maybe at once)
