"""At most one log line per refusal key per minute, with a count (no I/O of its own).

Shared by the in-process push route (:mod:`.push_refusals`) and the push receiver
process (:mod:`.push_desk`, whose lines the gateway logs); kept free of the gateway's
imports so the receiver process stays small.
"""

from __future__ import annotations

LOG_INTERVAL_SECONDS = 60.0
UNKNOWN = "an unknown channel"
"""The one log key of every notification that names no channel of this gateway."""
MAX_KEYS = 10_000


class RefusalLog:
    """At most one log line per key per :data:`LOG_INTERVAL_SECONDS`, with a count.

    Pure bookkeeping (no logging, no metrics): the gateway's route and the push receiver
    process (:mod:`.push_process`, which relays the lines to the gateway's log) share it.
    """

    def __init__(self) -> None:
        self._logged: dict[str, tuple[float, int]] = {}
        """Per key: when the last line was written, and how many were left out since."""

    def line(self, key: str, outcome: str, status: int, now: float) -> str | None:
        """The line to log for one refusal, or ``None`` when ``key`` was logged within
        the interval (the refusal is then counted into the next line)."""
        last = self._logged.get(key)
        if last is not None and now - last[0] < LOG_INTERVAL_SECONDS:
            self._logged[key] = (last[0], last[1] + 1)
            return None
        if len(self._logged) >= MAX_KEYS:
            self._logged = {k: v for k, v in self._logged.items()
                            if now - v[0] < LOG_INTERVAL_SECONDS}
        self._logged[key] = (now, 0)
        more = f"; {last[1]} more on it within the last minute" if last and last[1] else ""
        return f"push notification {outcome.replace('_', ' ')} (HTTP {status}) on {key}{more}"
