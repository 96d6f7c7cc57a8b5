"""Accepted push notifications, coalesced in memory and handed to the engine in batches.

A notification is a hint ("this calendar changed"): the webhook acknowledges it as soon as
it passed its checks, without waiting on the store. The user's id goes into an in-memory
set; one background task per gateway takes the whole set every :data:`WINDOW_SECONDS`
(or, while a batch is being queued, whatever arrived meanwhile) and asks the engine for
one sync per user (``engine.request_sync``: one pending job per user, in the shared
store, so any process of a PostgreSQL deployment may run it). Many notifications of one
user within a window — a burst of edits, the echoes of the gateway's own writes — cost
one job insert.

A hint still in memory when the process dies is lost, which a hint may be: the start-up
catch-up syncs every user whose last sync predates the start, and the safety-net sync
covers the rest. The set is bounded by the number of users with a channel.

``engine.until_idle`` (tests, the demo, one-shot commands) drains the set first
(:meth:`~hybrid_calendar.engine.engine.Engine.add_drain`), so "idle" covers hints too.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from hybrid_calendar.gateway import Gateway

log = logging.getLogger(__name__)

WINDOW_SECONDS = 0.05
"""How long hints gather before a batch is queued."""
STATE_KEY = "google.push_inbox"


class PushInbox:
    """Users whose sync an accepted push notification asked for, not yet queued."""

    def __init__(self, gateway: Gateway, window: float = WINDOW_SECONDS) -> None:
        self.gateway = gateway
        self.window = window
        self._pending: dict[str, None] = {}  # an ordered set
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._drained_by: object | None = None
        self.batches = 0
        """Batches handed to the engine (for tests and the benchmark)."""
        self.queued = 0
        """Sync requests handed to the engine."""

    def add(self, user_id: str) -> None:
        """Remember that ``user_id`` needs a sync (never waits)."""
        self._pending[user_id] = None
        engine = self.gateway.engine
        if engine is not None and self._drained_by is not engine:
            engine.add_drain(self.drain)
            self._drained_by = engine
        self._wake.set()
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._run(),
                                                                name="google-push-inbox")

    def __len__(self) -> int:
        return len(self._pending)

    async def _run(self) -> None:
        while True:
            await self._wake.wait()
            await asyncio.sleep(self.window)
            await self.drain()

    async def drain(self) -> None:
        """Hand every pending user to the engine now, as one batch."""
        self._wake.clear()
        batch, self._pending = list(self._pending), {}
        if not batch:
            return
        engine = self.gateway.engine
        if engine is None:  # stopping: the start-up catch-up covers these hints
            log.info("%d push hint(s) dropped: the engine is not running", len(batch))
            return
        self.batches += 1
        failed = 0
        for user_id in batch:
            try:
                await engine.request_sync(user_id, "push")
                self.queued += 1
            except Exception as err:  # a hint: the safety-net sync covers it
                failed += 1
                error = f"{type(err).__name__}: {err}"
        if failed:
            log.warning("%d of %d push hint(s) not queued (the safety-net sync covers "
                        "them): %s", failed, len(batch), error)

    async def close(self) -> None:
        """Stop the background task; hints not yet queued are dropped."""
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None


def inbox(gateway: Gateway) -> PushInbox:
    """The gateway's push inbox (created on first use)."""
    return gateway.state.get_or_create(STATE_KEY, PushInbox, lambda: PushInbox(gateway))
