"""Retention of the webhook sink's stored messages (they hold the
meeting's title and join link, sealed under the organisation's key)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from hybrid_calendar.clock import ManualClock
from hybrid_calendar.engine import notify, sweeps
from hybrid_calendar.people import webhooks
from hybrid_calendar.people.service import people_service

from .conftest import meeting, running_stack
from .receiver import running_receiver

pytestmark = pytest.mark.anyio


async def test_webhook_messages_do_not_outlive_the_retention_window(
        tmp_path: Path, store_url: str | None) -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    clock = ManualClock(now)
    async with running_receiver() as receiver, \
            running_stack(tmp_path, clock, store_url=store_url) as stack:
        created = await stack.admin.post("/api/v1/organisations/org1/webhooks", json={
            "url": receiver.url, "allow_host": "127.0.0.1", "events": ["join_button"]})
        endpoint = created.json()["id"]
        user = await stack.add_user("p1")
        await notify.schedule_join_buttons(stack.gateway, user, [
            meeting(user, "e1", "Board meeting", now + timedelta(minutes=5))])
        await notify.deliver_due(stack.gateway)
        assert len(receiver.requests) == 1
        assert len(await webhooks.list_deliveries(stack.gateway, endpoint, None)) == 1
        clock.advance(timedelta(days=40))  # the meeting is 40 days old: past retention
        await sweeps.purge_expired(stack.gateway)
        await people_service(stack.gateway).purge_outbox()
        assert await stack.gateway.store.list_notifications(user) == []  # the core's row
        left = await webhooks.list_deliveries(stack.gateway, endpoint, None)
        assert left == [], [d.state for d in left]
