"""Group commit of the notification outbox's delivery records.

Every attempt ends by saving its sinks' receipts and the notification's new state
(:meth:`Store.record_deliveries`). Records that arrive while a save is in flight go
together into the next one (:meth:`Store.record_many_deliveries`, one transaction), so a
minute with thousands of Join buttons makes a few dozen commits instead of thousands. A
caller returns only once its record is committed: nothing counts as recorded before it is
durable, and a failed save fails every caller of its batch (their leases lapse and the
outbox tries them again).
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from hybrid_calendar.store.base import DeliveryRecord

if TYPE_CHECKING:
    from hybrid_calendar.gateway import Gateway

STATE_KEY = "delivery-recorder"
MAX_BATCH = 1000
"""Most records in one transaction."""


class DeliveryRecorder:
    """Saves delivery records in shared transactions."""

    def __init__(self, gateway: Gateway) -> None:
        self.gateway = gateway
        self._queue: list[tuple[DeliveryRecord, asyncio.Future[None]]] = []
        self._flusher: asyncio.Task[None] | None = None

    async def record(self, record: DeliveryRecord) -> None:
        """Save one record; returns once it is committed."""
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._queue.append((record, done))
        if self._flusher is None or self._flusher.done():
            self._flusher = asyncio.create_task(self._flush(), name="delivery-recorder")
        await done

    async def _flush(self) -> None:
        while self._queue:
            batch, self._queue = self._queue[:MAX_BATCH], self._queue[MAX_BATCH:]
            try:
                await self.gateway.store.record_many_deliveries([r for r, _ in batch])
            except Exception as err:
                for _record, done in batch:
                    if not done.done():
                        done.set_exception(err)
                continue
            for _record, done in batch:
                if not done.done():
                    done.set_result(None)


def delivery_recorder(gateway: Gateway) -> DeliveryRecorder:
    """The gateway's :class:`DeliveryRecorder`, created on first use."""
    return gateway.state.get_or_create(STATE_KEY, DeliveryRecorder,
                                       lambda: DeliveryRecorder(gateway))
