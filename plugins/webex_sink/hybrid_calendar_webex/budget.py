"""Per-organisation Webex rate budget: every Webex call waits for a unit of it.

Webex publishes no request rate for the Meetings API (Contact Center documents 300 per
minute per client id), and answers 429 with ``Retry-After`` when a client goes too fast.
The gateway keeps below that on its own side: a sliding one-minute window per
organisation (``webex.rate_per_minute``), which callers wait on. A 429 that still comes
back is not retried here (see :mod:`.client`).
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Awaitable, Callable

WINDOW_SECONDS = 60.0


class RateBudget:
    """At most ``per_minute`` calls in any minute, per key (an organisation id).

    :param per_minute: calls allowed per key in any ``WINDOW_SECONDS``.
    :param monotonic: time source in seconds (injectable).
    :param sleep: how to wait (injectable).
    """

    def __init__(self, per_minute: int, *,
                 monotonic: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], Awaitable[None]] = asyncio.sleep) -> None:
        if per_minute < 1:
            raise ValueError("per_minute must be at least 1")
        self.per_minute = per_minute
        self._calls: dict[str, deque[float]] = {}
        self._monotonic = monotonic
        self._sleep = sleep
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

    async def acquire(self, key: str) -> None:
        """Wait until a call for ``key`` fits the budget, then count it."""
        while True:
            now = self._monotonic()
            delay = self.wait_time(key, now)
            if delay <= 0:
                self._calls[key].append(now)
                self.taken += 1
                return
            self.waited_seconds += delay
            await self._sleep(delay)
