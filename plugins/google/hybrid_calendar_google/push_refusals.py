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
from hybrid_calendar_google.refusal_log import LOG_INTERVAL_SECONDS, UNKNOWN, RefusalLog

__all__ = ["LOG_INTERVAL_SECONDS", "UNKNOWN", "PushOutcomes", "RefusalLog", "outcomes"]

if TYPE_CHECKING:
    from hybrid_calendar.gateway import Gateway

log = logging.getLogger(__name__)

STATE_KEY = "google.push_refusals"


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
