"""Per-token rate limits and injected faults (status codes, latency, dropped webhooks).

Rate limits: a sliding one-minute window per access token; beyond the limit Webex's 429
with ``Retry-After`` and no body. Faults come from ``--faults``, the control route or
:meth:`WebexState.control`; see :meth:`Faults.configure` for the keys.
"""

from __future__ import annotations

import math
import random
import re
from collections import deque
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from hybrid_calendar_webex_emulator.errors import ApiError, RateLimited, injected


class RateLimits:
    """Requests per minute per access token."""

    def __init__(self, per_minute: int | None, retry_after: int | None = None) -> None:
        self.per_minute = per_minute
        self.retry_after = retry_after
        self._windows: dict[str, deque[float]] = {}

    def charge(self, token: str, now: datetime) -> None:
        """Count one request for ``token``.

        :raises RateLimited: the window is full.
        """
        if self.per_minute is None:
            return
        stamp = now.timestamp()
        window = self._windows.setdefault(token, deque())
        while window and window[0] <= stamp - 60:
            window.popleft()
        if len(window) >= self.per_minute:
            wait = (self.retry_after if self.retry_after is not None
                    else math.ceil(window[0] + 60 - stamp))
            raise RateLimited(wait)
        window.append(stamp)

    def reset(self) -> None:
        """Forget every counted request."""
        self._windows.clear()


@dataclass
class ErrorRule:
    """Fail the next ``count`` matching calls (or a fraction ``rate`` of them)."""

    status: int
    count: int | None = 1
    rate: float | None = None
    path: str | None = None
    """Regular expression searched in the request path."""
    method: str | None = None
    person_id: str | None = None
    retry_after: int | None = None

    def matches(self, method: str, path: str, person_id: str | None) -> bool:
        """Whether this rule applies to the call."""
        if self.person_id is not None and self.person_id != person_id:
            return False
        if self.method is not None and self.method.upper() != method:
            return False
        return not (self.path is not None and not re.search(self.path, path))


@dataclass
class Faults:
    """Active fault injection settings."""

    errors: list[ErrorRule] = field(default_factory=list)
    latency_ms: float = 0.0
    drop_webhooks: float = 0.0
    """Probability (0..1) that a webhook delivery is silently dropped."""
    random: random.Random = field(default_factory=random.Random)

    def configure(self, spec: dict[str, Any]) -> set[str]:
        """Apply the fault part of a control document; returns the keys handled.

        ``errors``: list of ``{"status", "count"?, "rate"?, "path"?, "method"?,
        "personId"?, "retryAfter"?}`` (``count`` defaults to 1; with ``rate`` only, the
        rule stays until cleared); ``clear_errors``; ``latency_ms``; ``drop_webhooks``.

        :raises ValueError: a malformed rule.
        """
        handled = set()
        if spec.get("clear_errors"):
            self.errors.clear()
            handled.add("clear_errors")
        for raw in spec.get("errors", []):
            if not isinstance(raw, dict) or "status" not in raw:
                raise ValueError("each error rule needs a status")
            self.errors.append(ErrorRule(
                status=int(raw["status"]), count=raw.get("count", None if "rate" in raw else 1),
                rate=raw.get("rate"), path=raw.get("path"), method=raw.get("method"),
                person_id=raw.get("personId"), retry_after=raw.get("retryAfter")))
            handled.add("errors")
        if "latency_ms" in spec:
            self.latency_ms = float(spec["latency_ms"])
            handled.add("latency_ms")
        if "drop_webhooks" in spec:
            self.drop_webhooks = float(spec["drop_webhooks"])
            handled.add("drop_webhooks")
        return handled

    def check(self, method: str, path: str, person_id: str | None) -> ApiError | None:
        """The injected error for this call, if any (consumes one ``count``)."""
        for rule in list(self.errors):
            if not rule.matches(method, path, person_id):
                continue
            if rule.rate is not None and self.random.random() >= rule.rate:
                continue
            if rule.count is not None:
                rule.count -= 1
                if rule.count <= 0:
                    self.errors.remove(rule)
            return injected(rule.status, rule.retry_after)
        return None

    def drop(self) -> bool:
        """Whether to drop the next webhook delivery."""
        return self.drop_webhooks > 0 and self.random.random() < self.drop_webhooks
