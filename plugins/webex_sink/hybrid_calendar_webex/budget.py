"""Per-organisation Webex rate budget: every Webex call waits for a unit of it.

Webex publishes no request rate for the Meetings API (Contact Center documents 300 per
minute per client id), and answers 429 with ``Retry-After`` when a client goes too fast.
The gateway keeps below that on its own side: a sliding one-minute window per
organisation (``webex.rate_per_minute``), which callers wait on. When several gateway
processes share one database (PostgreSQL), each call also takes a unit of the store's
:class:`~hybrid_calendar.store.budget.SharedBudget` ``webex:<org>``, so the processes
together stay within the budget. A 429 that still comes back is not retried here (see
:mod:`.client`).

:meth:`RateBudget.quota_use` is the read side, for the ``report_quota`` hook: the shared
budget's store rows when processes share one, else this process's window.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from hybrid_calendar.models import QuotaUse

if TYPE_CHECKING:
    from hybrid_calendar.store.budget import SharedBudget

WINDOW_SECONDS = 60.0
REPORT_NAME = "webex requests/min"
"""How :meth:`RateBudget.quota_use` names the budget."""


class RateBudget:
    """At most ``per_minute`` calls in any minute, per key (an organisation id).

    :param per_minute: calls allowed per key in any ``WINDOW_SECONDS``.
    :param monotonic: time source in seconds (injectable).
    :param sleep: how to wait (injectable).
    :param shared: makes the budget shared across processes for a key (``None``: this
        process is alone).
    """

    def __init__(self, per_minute: int, *,
                 monotonic: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
                 shared: Callable[[str], SharedBudget] | None = None) -> None:
        if per_minute < 1:
            raise ValueError("per_minute must be at least 1")
        self.per_minute = per_minute
        self._calls: dict[str, deque[float]] = {}
        self._monotonic = monotonic
        self._sleep = sleep
        self._shared_factory = shared
        self._shared: dict[str, SharedBudget] = {}
        self.taken = 0
        """Units handed out so far (every Webex call takes one)."""
        self.waited_seconds = 0.0
        """Total time callers waited for budget."""

    def wait_time(self, key: str, now: float) -> float:
        """Seconds until one more call for ``key`` fits (0 when it fits now)."""
        calls = self._calls.setdefault(key, deque())
        while calls and calls[0] <= now - WINDOW_SECONDS:
            calls.popleft()
        if len(calls) < self.per_minute:
            return 0.0
        return calls[0] + WINDOW_SECONDS - now

    def _shared_budget(self, key: str) -> SharedBudget | None:
        if self._shared_factory is None:
            return None
        shared = self._shared.get(key)
        if shared is None:
            shared = self._shared[key] = self._shared_factory(key)
        return shared

    async def quota_use(self, key: str) -> QuotaUse:
        """The calls counted for ``key`` in the minute ending now: by every process when
        the budget is shared (read from the store), else by this one."""
        shared = self._shared_budget(key)
        if shared is not None:
            return QuotaUse(REPORT_NAME, (await shared.read()).used, shared.limit,
                            shared.window_seconds)
        self.wait_time(key, self._monotonic())  # drops what left the window
        return QuotaUse(REPORT_NAME, len(self._calls.get(key, ())), self.per_minute,
                        WINDOW_SECONDS)

    async def acquire(self, key: str) -> None:
        """Wait until a call for ``key`` fits the budget, then count it."""
        while True:
            now = self._monotonic()
            delay = self.wait_time(key, now)
            if delay <= 0:
                self._calls[key].append(now)
                self.taken += 1
                break
            self.waited_seconds += delay
            await self._sleep(delay)
        shared = self._shared_budget(key)
        if shared is not None:
            await shared.acquire()
