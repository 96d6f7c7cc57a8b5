"""Join buttons due within one minute survive a gateway restart in the middle of it: each
reaches the stream outbox and the webhook receiver once, none lost, none twice."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from hybrid_calendar.clock import ManualClock
from hybrid_calendar.engine import notify
from hybrid_calendar.models import Notification, NotificationKind
from hybrid_calendar.people import outbox
from hybrid_calendar.people.service import people_service

from .conftest import meeting, running_stack
from .receiver import running_receiver

pytestmark = pytest.mark.anyio
USERS = 40


async def test_no_join_button_is_lost_or_repeated_across_a_restart(tmp_path: Path) -> None:
    minute = datetime.now(UTC).replace(second=0, microsecond=0) + timedelta(minutes=10)
    clock = ManualClock(minute - timedelta(seconds=30))
    lead = timedelta(minutes=5)
    async with running_receiver() as receiver:
        async with running_stack(tmp_path, clock) as stack:
            hook = (await stack.admin.post("/api/v1/organisations/org1/webhooks", json={
                "url": receiver.url, "allow_host": "127.0.0.1", "events": ["join_button"]}
            )).json()
            users = [await stack.add_user(f"p{i}") for i in range(USERS)]
            for i, user in enumerate(users):  # due times spread over the minute
                start = minute + timedelta(seconds=i * 60 / USERS) + lead
                await notify.schedule_join_buttons(stack.gateway, user, [
                    meeting(user, f"e{i}", f"Meeting {i}", start)])
            clock.set(minute + timedelta(seconds=30))
            await notify.deliver_due(stack.gateway)  # the first half
            due = await stack.gateway.store.due_notifications(clock.now())
            assert due == []
            # a delivery whose "sent" mark the crash lost: delivered again after restart
            late_user = users[USERS // 2 + 1]  # due after the restart
            first_after = next(item for user, item in await stack.gateway.store
                               .due_notifications(minute + timedelta(minutes=1))
                               if user.id == late_user.id)
            await stack.gateway.hooks.deliver_notification(stack.gateway, Notification(
                kind=NotificationKind.JOIN_BUTTON, user=late_user,
                payload=first_after.payload, key=first_after.key))
            await people_service(stack.gateway).webhooks.run_once()
            sent_before = len(receiver.requests)
            assert sent_before == USERS // 2 + 2  # 0..20 by the scheduler, 21 by hand
        async with running_stack(tmp_path, clock) as stack:  # restarted mid-minute
            clock.set(minute + timedelta(seconds=61))
            await notify.deliver_due(stack.gateway)
            await people_service(stack.gateway).webhooks.run_once()
            events = await outbox.since(stack.gateway, users[0], 0)
            assert [e.kind for e in events] == ["join_button"]
            recorded = [e for u in users for e in await outbox.since(stack.gateway, u, 0)]
    keys = Counter(e.key for e in recorded)
    assert len(keys) == USERS and set(keys.values()) == {1}
    titles = Counter(r.body.split(b'"title":"')[1].split(b'"')[0] for r in receiver.requests)
    assert len(titles) == USERS and set(titles.values()) == {1}, titles
    assert hook["id"]
