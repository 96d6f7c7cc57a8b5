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

from .conftest import meeting, running_stack
from .receiver import running_receiver

pytestmark = pytest.mark.anyio
USERS = 40


async def test_no_join_button_is_lost_or_repeated_across_a_restart(
        tmp_path: Path, store_url: str | None) -> None:
    minute = datetime.now(UTC).replace(second=0, microsecond=0) + timedelta(minutes=10)
    clock = ManualClock(minute - timedelta(seconds=30))
    lead = timedelta(minutes=5)
    async with running_receiver() as receiver:
        async with running_stack(tmp_path, clock, store_url=store_url) as stack:
            await stack.admin.post("/api/v1/organisations/org1/webhooks", json={
                "url": receiver.url, "allow_host": "127.0.0.1", "events": ["join_button"]})
            users = [await stack.add_user(f"p{i}") for i in range(USERS)]
            meetings = []
            for i, user in enumerate(users):  # due times spread over the minute
                start = minute + timedelta(seconds=i * 60 / USERS) + lead
                meetings.append(meeting(user, f"e{i}", f"Meeting {i}", start))
                await notify.schedule_join_buttons(stack.gateway, user, [meetings[-1]])
            clock.set(minute + timedelta(seconds=29))
            await notify.deliver_due(stack.gateway)  # the first half
            # a delivery whose receipt the crash lost: the core offers it again later
            late = USERS // 2 + 1
            item = Notification(
                kind=NotificationKind.JOIN_BUTTON, user=users[late],
                key=notify.join_button_key(users[late], meetings[late]),
                payload={"event_id": f"e{late}", "title": f"Meeting {late}"})
            for sink in ("people", "people.webhook_sink"):
                await stack.gateway.hooks.deliver_notification(stack.gateway, item, sink)
            assert len(receiver.requests) == USERS // 2 + 1
        # restarted mid-minute
        async with running_stack(tmp_path, clock, store_url=store_url) as stack:
            clock.set(minute + timedelta(seconds=61))
            await notify.deliver_due(stack.gateway)
            recorded = [e for u in users for e in await outbox.since(stack.gateway, u, 0)]
            states: Counter[str] = Counter()
            for user in users:
                listed = await stack.admin.get(f"/api/v1/users/{user.id}/notifications")
                states.update(n["state"] for n in listed.json()["notifications"])
    assert states == {"delivered": USERS}
    keys = Counter(e.key for e in recorded)
    assert len(keys) == USERS and set(keys.values()) == {1}
    assert {e.kind for e in recorded} == {"join_button"}
    titles = Counter(r.body.split(b'"title":"')[1].split(b'"')[0] for r in receiver.requests)
    assert len(titles) == USERS and set(titles.values()) == {1}, titles
