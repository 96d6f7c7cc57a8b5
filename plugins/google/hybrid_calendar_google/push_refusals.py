"""Counting push notifications by outcome, and logging refusals without a flood.

Anyone who knows (or guesses) a channel id can send notifications. Each outcome is
counted in ``hybrid_calendar_google_push_total{outcome}`` on the gateway's ``/metrics``;
a refusal (and a replay or a rate-limited one) is logged at most once per channel per
:data:`LOG_INTERVAL_SECONDS`, the line saying how many more came since the last one.
Notifications naming no known channel share one key (:data:`UNKNOWN`), so inventing
channel ids cannot make more lines either. Memory is bounded by the real channels.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from prometheus_client import Counter

from hybrid_calendar.admin.metrics import metrics

if TYPE_CHECKING:
    from hybrid_calendar.gateway import Gateway

log = logging.getLogger(__name__)

LOG_INTERVAL_SECONDS = 60.0
UNKNOWN = "an unknown channel"
"""The one log key of every notification that names no channel of this gateway."""
STATE_KEY = "google.push_refusals"
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


class PushOutcomes:
    """The outcome counter and the per-channel log limiter of one gateway."""

    def __init__(self, gateway: Gateway) -> None:
        self.counter = Counter("hybrid_calendar_google_push",
                               "Google push notifications received, by outcome",
                               ["outcome"], registry=metrics(gateway).registry)
        self._log = RefusalLog()

    def count(self, outcome: str, amount: int = 1) -> None:
        """Count ``amount`` notifications with ``outcome`` (``accepted``, ``sync``, ...)."""
        self.counter.labels(outcome).inc(amount)

    def refuse(self, key: str, outcome: str, status: int, now: float) -> None:
        """Count a refused (or ignored) notification; log it unless ``key`` was logged
        within the interval.

        :param key: a channel's user (never attacker-chosen text) or :data:`UNKNOWN`.
        :param now: seconds on the gateway's clock.
        """
        self.count(outcome)
        line = self._log.line(key, outcome, status, now)
        if line is not None:
            log.warning("%s", line)


def outcomes(gateway: Gateway) -> PushOutcomes:
    """The gateway's push outcome counter (created on first use)."""
    return gateway.state.get_or_create(STATE_KEY, PushOutcomes, lambda: PushOutcomes(gateway))
