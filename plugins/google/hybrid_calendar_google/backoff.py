"""Capped exponential backoff with full jitter, the one retry policy of the Google plugin.

Delay before retry ``n`` (1-based) is uniform in ``[0, min(cap, base * 2**(n-1))]``
("full jitter", AWS architecture blog), raised to the server's ``Retry-After`` when it
asks for longer (still capped by ``max_retry_after``). Attempts are bounded.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime


@dataclass
class Backoff:
    """Retry policy: how many attempts and how long to wait between them.

    :ivar max_attempts: total attempts including the first.
    :ivar base: the first retry waits up to this many seconds.
    :ivar cap: no jittered wait is longer than this.
    :ivar max_retry_after: the longest ``Retry-After`` honoured.
    """

    max_attempts: int = 6
    base: float = 0.5
    cap: float = 30.0
    max_retry_after: float = 120.0
    sleep: Callable[[float], Awaitable[None]] = field(default=asyncio.sleep, repr=False)
    random: Callable[[], float] = field(default=random.random, repr=False)

    def delay(self, attempt: int, retry_after: float | None = None) -> float:
        """Seconds to wait before retry number ``attempt`` (1 for the first retry)."""
        ceiling = min(self.cap, self.base * 2.0 ** max(0, attempt - 1))
        jittered = self.random() * ceiling
        if retry_after is not None:
            return max(jittered, min(retry_after, self.max_retry_after))
        return jittered

    async def wait(self, attempt: int, retry_after: float | None = None) -> float:
        """Sleep for :meth:`delay`; return how long."""
        seconds = self.delay(attempt, retry_after)
        await self.sleep(seconds)
        return seconds


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds asked for by a ``Retry-After`` header: delta-seconds or an HTTP date.

    ``None`` when absent or unreadable; never negative.
    """
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:  # "-0000": RFC 5322's "UTC, origin unknown"
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())
