"""In-process fan-out of new outbox events to the open streams of their user.

Each open stream holds a :class:`Subscription` (a bounded queue). Publishing puts the event
in the queue of every subscription of the user; a subscription whose client reads too
slowly overflows and is closed, so the client reconnects with ``Last-Event-ID`` and
catches up from the durable outbox instead of holding memory.

With one process (SQLite) the outbox writer publishes each new event straight to the hub
(``direct``). With several (PostgreSQL) it does not: the listener wakes
(:meth:`StreamHub.wake`) the streams of users with new events, and each reads what
follows its last ``seq`` from the outbox, so events of every process arrive in ``seq`` order.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict

from hybrid_calendar.people.outbox import OutboxEvent

QUEUE_LIMIT = 1000


class Wake:
    """Queued for a stream whose user has new events in the outbox: read them there."""


WAKE = Wake()


class Subscription:
    """One open stream's inbox: events, :data:`WAKE`, or None after an overflow."""

    def __init__(self, user_id: str) -> None:
        self.user_id = user_id
        self.queue: asyncio.Queue[OutboxEvent | Wake | None] = asyncio.Queue(QUEUE_LIMIT)
        self.overflowed = False
        self.woken = False
        """A :data:`WAKE` is queued and not yet taken (wakes do not pile up)."""

    def wake(self) -> None:
        """Tell the stream its user has new events in the outbox."""
        if self.woken or self.overflowed:
            return
        self.woken = True
        try:
            self.queue.put_nowait(WAKE)
        except asyncio.QueueFull:
            self._overflow()

    def offer(self, event: OutboxEvent) -> None:
        """Queue an event; on overflow mark the subscription and wake its reader."""
        if self.overflowed:
            return
        try:
            self.queue.put_nowait(event)
        except asyncio.QueueFull:
            self._overflow()

    def _overflow(self) -> None:
        self.overflowed = True
        self.queue.get_nowait()
        self.queue.put_nowait(None)


class StreamHub:
    """Subscriptions by user; publishing is synchronous and never blocks."""

    def __init__(self, *, direct: bool = True) -> None:
        self._by_user: defaultdict[str, set[Subscription]] = defaultdict(set)
        self.direct = direct
        """True when the outbox writer publishes events here itself (one process)."""

    def subscribe(self, user_id: str) -> Subscription:
        """Open a subscription for a user's events."""
        subscription = Subscription(user_id)
        self._by_user[user_id].add(subscription)
        return subscription

    def unsubscribe(self, subscription: Subscription) -> None:
        """Close a subscription."""
        subscribers = self._by_user.get(subscription.user_id)
        if subscribers is not None:
            subscribers.discard(subscription)
            if not subscribers:
                del self._by_user[subscription.user_id]

    def publish(self, event: OutboxEvent) -> int:
        """Offer an event to every subscription of its user; return how many."""
        subscribers = self._by_user.get(event.user_id, ())
        for subscription in subscribers:
            subscription.offer(event)
        return len(subscribers)

    def wake(self, user_id: str) -> int:
        """Wake every stream of a user (new events in the outbox); return how many."""
        subscribers = self._by_user.get(user_id, ())
        for subscription in subscribers:
            subscription.wake()
        return len(subscribers)

    def wake_all(self) -> None:
        """Wake every stream (the listener reconnected: events may have been missed)."""
        for subscribers in self._by_user.values():
            for subscription in subscribers:
                subscription.wake()

    @property
    def open_streams(self) -> int:
        """Number of open subscriptions."""
        return sum(len(s) for s in self._by_user.values())
