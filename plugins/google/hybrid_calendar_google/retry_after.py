"""Reading Google's ``Retry-After`` header, so the engine's retry waits as long as asked.

The Google plugin never retries a failing call itself: it raises
:class:`~hybrid_calendar.errors.RateLimitError` or
:class:`~hybrid_calendar.errors.TransientError` with ``retry_after`` set from this header,
and the engine's one retry policy (:mod:`hybrid_calendar.engine.retries`) schedules the
job's next attempt no earlier than that.
"""

from __future__ import annotations

from datetime import UTC, datetime
from email.utils import parsedate_to_datetime


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
