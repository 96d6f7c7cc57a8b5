"""Group commit of the stream outbox: notifications that arrive while a write is in flight
are written together in the next transaction.

Each batch's events are recorded in one transaction, then published to open streams in
``seq`` order. With thousands of Join buttons falling due in one minute this turns
thousands of commits into a few dozen. On PostgreSQL the transaction also announces the
users with new events (``NOTIFY``), and every process's listener (:mod:`.listener`) wakes
their streams, which read the new rows: the hub's events then come from the database, in
commit order, whichever process wrote them.

A Join button's record key is settled inside that transaction (:mod:`.redelivery`: it
names the latest withdrawal of the button recorded before), and its payload is sealed
there, bound to that key.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from hybrid_calendar.models import User
from hybrid_calendar.people import outbox
from hybrid_calendar.people.db import (
    Handle,
    announce,
    execute,
    run,
    sealer,
    serialize_outbox,
    write,
)
from hybrid_calendar.people.outbox import OutboxEvent
from hybrid_calendar.people.redelivery import record_key, withdrawals_between

if TYPE_CHECKING:
    from hybrid_calendar.gateway import Gateway
    from hybrid_calendar.people.hub import StreamHub


@dataclass
class _Pending:
    user: User
    kind: str
    key: str
    """The notification's key (a Join button's record key is settled at the write)."""
    data: dict[str, Any]
    done: asyncio.Future[OutboxEvent | None]

    def record_key(self, handle: Handle) -> str:
        """The key this event is recorded under (:mod:`.redelivery`)."""
        latest = None
        if self.kind == "join_button":
            first, below = withdrawals_between(self.key)
            latest = execute(handle, "SELECT max(key) FROM people_outbox WHERE key >= ? AND "
                             "key < ?", (first, below)).fetchone()[0]
        return record_key(self.kind, self.key, latest)


class OutboxWriter:
    """Writes stream events in batches, one transaction per batch."""

    def __init__(self, gateway: Gateway, hub: StreamHub) -> None:
        self.gateway = gateway
        self.hub = hub
        self._queue: list[_Pending] = []
        self._flusher: asyncio.Task[None] | None = None

    async def submit(self, user: User, kind: str, key: str, data: dict[str, Any]
                     ) -> OutboxEvent | None:
        """Record one event (stream event name ``kind``, the notification's ``key``)
        durably; None when it was recorded before."""
        done: asyncio.Future[OutboxEvent | None] = asyncio.get_running_loop().create_future()
        self._queue.append(_Pending(user, kind, key, data, done))
        if self._flusher is None or self._flusher.done():
            self._flusher = asyncio.create_task(self._flush(), name="people-outbox-writer")
        return await done

    async def _flush(self) -> None:
        while self._queue:
            batch, self._queue = self._queue, []
            try:
                events = await self._write(batch)
            except Exception as err:
                for pending in batch:
                    if not pending.done.done():
                        pending.done.set_exception(err)
                continue
            for pending, event in zip(batch, events, strict=True):
                if event is not None and self.hub.direct:
                    self.hub.publish(event)
                if not pending.done.done():
                    pending.done.set_result(event)

    async def _write(self, batch: list[_Pending]) -> list[OutboxEvent | None]:
        now = self.gateway.clock.now()
        sealers = {p.user.id: await sealer(self.gateway, p.user.org_id, p.user.id)
                   for p in batch}

        def work(handle: Handle) -> list[tuple[int | None, str]]:
            with write(handle):
                serialize_outbox(handle)
                keys = [p.record_key(handle) for p in batch]
                seqs = [outbox.insert(handle, p.user.id, p.kind, key, outbox.seal_with(
                    sealers[p.user.id], key, p.data), now)
                        for p, key in zip(batch, keys, strict=True)]
                announce(handle, [p.user.id for p, seq in zip(batch, seqs, strict=True)
                                  if seq is not None])
                return list(zip(seqs, keys, strict=True))

        written = await run(self.gateway, work)
        return [None if seq is None else OutboxEvent(seq, p.user.id, p.kind, key, p.data)
                for p, (seq, key) in zip(batch, written, strict=True)]
