"""Webex's meeting creation limits (developer.webex.com, Create a Meeting): "Regular users
can schedule up to 100 meetings in 24 hours and admin users up to 3000 overall or 800 for a
single user. Please note that the failed requests are also counted toward the limits."

Counted per caller over a sliding 24 hours; a create beyond a limit answers 429 with
``Retry-After`` (the seconds until the oldest counted create leaves the window; which
status Webex uses is not documented).
"""

from __future__ import annotations

import math
from collections import deque
from datetime import datetime, timedelta

from hybrid_calendar_webex_emulator.errors import RateLimited

WINDOW = timedelta(hours=24)
REGULAR_LIMIT = 100
ADMIN_TOTAL_LIMIT = 3000
ADMIN_PER_USER_LIMIT = 800


class MeetingCreateLimits:
    """Sliding 24-hour windows of meeting creates."""

    def __init__(self, enabled: bool = True) -> None:
        self.enabled = enabled
        self._windows: dict[tuple[str, str], deque[datetime]] = {}

    def _check(self, key: tuple[str, str], limit: int, now: datetime) -> None:
        window = self._windows.setdefault(key, deque())
        while window and window[0] <= now - WINDOW:
            window.popleft()
        if len(window) >= limit:
            raise RateLimited(math.ceil((window[0] + WINDOW - now).total_seconds()))

    def charge(self, caller_id: str, host_id: str, admin: bool, now: datetime) -> None:
        """Count one create by ``caller_id`` for ``host_id`` (before it is validated).

        :raises RateLimited: a limit is reached.
        """
        if not self.enabled:
            return
        keys = ([("admin", caller_id), ("admin-host", f"{caller_id}/{host_id}")] if admin
                else [("user", caller_id)])
        limits = [ADMIN_TOTAL_LIMIT, ADMIN_PER_USER_LIMIT] if admin else [REGULAR_LIMIT]
        for key, limit in zip(keys, limits, strict=True):
            self._check(key, limit, now)
        for key in keys:
            self._windows[key].append(now)
