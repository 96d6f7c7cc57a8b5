"""Join buttons (One Button To Push): scheduled per meeting and recipient, delivered once.

A Join button is a row with a unique key ``user|event|start``; after a restart, rows that
fell due while the process was down fire at once if the meeting has not ended, and the
sent marker makes delivery idempotent.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from datetime import timedelta
from typing import TYPE_CHECKING

from hybrid_calendar.models import (
    Meeting,
    Notification,
    NotificationKind,
    ScheduledNotification,
    User,
)
from hybrid_calendar.store.codec import join_to_json

if TYPE_CHECKING:
    from hybrid_calendar.gateway import Gateway

log = logging.getLogger(__name__)

BATCH = 500
"""Due Join buttons read per query."""
DELIVERY_CONCURRENCY = 64
"""Join buttons being delivered at once."""


def join_button_key(user: User, meeting: Meeting) -> str:
    """Unique key of a meeting's Join button for one recipient and start time."""
    return f"{user.id}|{meeting.event_id}|{meeting.start.isoformat()}"


async def schedule_join_buttons(gateway: Gateway, user: User, meetings: Sequence[Meeting],
                                deleted_event_ids: Sequence[str] = ()) -> None:
    """(Re)schedule Join buttons for meetings with join information."""
    lead = timedelta(minutes=float(gateway.config.get("notifications",
                                                      "join_button_lead_minutes")))
    items = [ScheduledNotification(
        key=join_button_key(user, m), user_id=user.id, event_id=m.event_id,
        due_at=m.start - lead, start=m.start, end=m.end,
        payload={"event_id": m.event_id, "title": m.title, "start": m.start.isoformat(),
                 "end": m.end.isoformat(), "join": join_to_json(m.join)})
        for m in meetings if m.join is not None and m.status != "cancelled" and not m.all_day]
    touched = [m.event_id for m in meetings] + list(deleted_event_ids)
    if items or touched:
        await gateway.store.schedule(user, items, replace_for_events=touched)


async def deliver_due(gateway: Gateway) -> None:
    """Deliver every Join button that is due and whose meeting has not ended.

    Due buttons are read in batches and delivered concurrently (at most
    :data:`DELIVERY_CONCURRENCY` at once), so a minute with thousands of buttons keeps
    time; the delivered ones of a batch are marked sent in one write.
    """
    while True:
        now = gateway.clock.now()
        due = await gateway.store.due_notifications(now, limit=BATCH)
        if not due:
            return
        slots = asyncio.Semaphore(DELIVERY_CONCURRENCY)
        sent = await asyncio.gather(*(_deliver_one(gateway, slots, user, item)
                                      for user, item in due))
        delivered = [item.key for (_user, item), ok in zip(due, sent, strict=True) if ok]
        if delivered:
            await gateway.store.mark_sent_many(delivered, now)
        if len(due) < BATCH or not delivered:
            return


async def _deliver_one(gateway: Gateway, slots: asyncio.Semaphore, user: User,
                       item: ScheduledNotification) -> bool:
    async with slots:
        try:
            await gateway.hooks.deliver_notification(gateway, Notification(
                kind=NotificationKind.JOIN_BUTTON, user=user, payload=item.payload,
                key=item.key))
        except Exception as err:
            log.warning("join button %s for user %s not delivered (will retry): %s",
                        item.event_id, user.id, err)
            return False
        return True
