"""Log lines that repeat on every sync, written at most once per key per interval.

Some conditions are true of many events at once and stay true until an administrator acts
(a keyword no enabled plugin serves, for instance): logging them per event per sync would
flood the log. :class:`LogLimiter` writes the first line for a key, then at most one line
per interval saying how many were left out since. Keys must come from configuration or the
gateway's own identifiers, never from attacker-chosen text, so memory stays bounded by
:data:`MAX_KEYS`.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from hybrid_calendar.gateway import Gateway

MAX_KEYS = 10_000
"""Keys remembered at most; older ones are forgotten first when the table is full."""


class LogLimiter:
    """At most one log line per key per ``interval`` seconds, counting the ones left out."""

    def __init__(self, logger: logging.Logger, interval: float = 60.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.logger = logger
        self.interval = interval
        self.clock = clock
        self._logged: dict[str, tuple[float, int]] = {}
        """Per key: when its last line was written, and how many were left out since."""

    def log(self, level: int, key: str, message: str, *args: object) -> bool:
        """Log ``message % args`` at ``level`` unless ``key`` was logged within the
        interval; returns whether a line was written."""
        now = self.clock()
        last = self._logged.get(key)
        if last is not None and now - last[0] < self.interval:
            self._logged[key] = (last[0], last[1] + 1)
            return False
        if last is None and len(self._logged) >= MAX_KEYS:
            del self._logged[next(iter(self._logged))]
        self._logged.pop(key, None)
        self._logged[key] = (now, 0)
        if last is not None and last[1]:
            message += " (%d more like it in the last %d s)"
            args = (*args, last[1], int(self.interval))
        self.logger.log(level, message, *args)
        return True


def gateway_limiter(gateway: Gateway, key: str, logger: logging.Logger) -> LogLimiter:
    """The gateway's :class:`LogLimiter` kept in ``gateway.state`` under ``key`` (made on
    first use), timed by the gateway's clock, so its interval moves with a test's clock."""
    return gateway.state.get_or_create(
        key, LogLimiter, lambda: LogLimiter(logger, clock=lambda: gateway.clock.now().timestamp()))


__all__ = ["MAX_KEYS", "LogLimiter", "gateway_limiter"]
