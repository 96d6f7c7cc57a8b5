"""In-process fan-out of new outbox events to the open streams of their user.

Each open stream holds a :class:`Subscription` (a bounded queue). Publishing puts the event
in the queue of every subscription of the user; a subscription whose client reads too
slowly overflows and is closed, so the client reconnects with ``Last-Event-ID`` and
catches up from the durable outbox instead of holding memory.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict

from hybrid_calendar.people.outbox import OutboxEvent

QUEUE_LIMIT = 1000


class Subscription:
    """One open stream's inbox."""

    def __init__(self, user_id: str) -> None:
        self.user_id = user_id
        self.queue: asyncio.Queue[OutboxEvent | None] = asyncio.Queue(QUEUE_LIMIT)
        self.overflowed = False

    def offer(self, event: OutboxEvent) -> None:
        """Queue an event; on overflow mark the subscription and wake its reader."""
        if self.overflowed:
            return
        try:
            self.queue.put_nowait(event)
        except asyncio.QueueFull:
            self.overflowed = True
            self.queue.get_nowait()
            self.queue.put_nowait(None)


class StreamHub:
    """Subscriptions by user; publishing is synchronous and never blocks."""

    def __init__(self) -> None:
        self._by_user: defaultdict[str, set[Subscription]] = defaultdict(set)

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

    @property
    def open_streams(self) -> int:
        """Number of open subscriptions."""
        return sum(len(s) for s in self._by_user.values())
