"""Rows both outbox backends write for :meth:`Store.record_many_deliveries`."""

from __future__ import annotations

from typing import Any

from hybrid_calendar.models import DeliveryState
from hybrid_calendar.store.base import DeliveryRecord, FieldCipher
from hybrid_calendar.store.sqlite_base import ts


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
