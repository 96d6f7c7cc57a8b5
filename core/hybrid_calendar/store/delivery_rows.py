"""Rows both outbox backends write: a scheduled notification's row, and the delivery
records of :meth:`Store.record_many_deliveries`."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from hybrid_calendar.models import DeliveryState, ScheduledNotification, User
from hybrid_calendar.store import codec
from hybrid_calendar.store.base import DeliveryRecord, FieldCipher, Sealer
from hybrid_calendar.store.sqlite_base import ts


def notification_row(sealer: Sealer, user: User, item: ScheduledNotification,
                     next_at: datetime) -> tuple[Any, ...]:
    """A ``scheduled_notifications`` row (key, user, event, due, start, end, payload,
    kind, next attempt), the payload's compact JSON sealed under the user's data key."""
    payload = sealer.seal(codec.compact_json(item.payload if isinstance(item.payload, dict)
                                             else dict(item.payload)),
                          table="scheduled_notifications", row_id=item.key, column="payload")
    return (item.key, user.id, item.event_id, ts(item.due_at), ts(item.start), ts(item.end),
            payload, str(item.kind), ts(next_at))


async def sealed_deliveries(cipher: FieldCipher, record: DeliveryRecord
                            ) -> list[tuple[Any, ...]]:
    """A record's ``notification_deliveries`` rows (key, sink, state, attempts, reason,
    next attempt, updated), each reason sealed under the user's data key."""
    sealer = await cipher.sealer(record.user.org_id, record.user.id)
    return [(record.key, d.sink, str(d.state), d.attempts,
             None if d.reason is None else sealer.seal(
                 d.reason, table="notification_deliveries", row_id=f"{record.key}|{d.sink}",
                 column="reason"),
             ts(d.next_attempt_at), ts(d.updated_at or record.at)) for d in record.deliveries]


def state_row(record: DeliveryRecord) -> tuple[Any, ...]:
    """The notification's new state, next attempt, ``sent_at`` (once delivered) and key."""
    sent_at = ts(record.at) if record.state is DeliveryState.DELIVERED else None
    return (str(record.state), ts(record.next_attempt_at), sent_at, record.key)
