"""Quotas as Google counts them, and injected faults (errors, latency, push loss, expiry).

Quotas: sliding one-minute windows per project and per user (the impersonated user);
exceeding them answers Google's ``usageLimits`` errors. Faults come from the emulator-only
control endpoint or :meth:`EmulatorState.control`; see :meth:`Faults.configure` for keys.
"""

from __future__ import annotations

import random
import re
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from hybrid_calendar_google_emulator.api_errors import ApiError, injected


class Quota:
    """Per-project and per-user requests-per-minute windows."""

    def __init__(self, project_rpm: int, user_rpm: int, status: int = 403) -> None:
        self.project_rpm = project_rpm
        self.user_rpm = user_rpm
        self.status = status
        """403 (default) or 429 for rate-limit answers."""
        self._project: deque[float] = deque()
        self._users: dict[str, deque[float]] = {}

    @staticmethod
    def _trim(window: deque[float], now: float) -> None:
        while window and window[0] <= now - 60:
            window.popleft()

    def charge(self, user: str | None, units: int = 1) -> None:
        """Count ``units`` requests.

        :raises ApiError: 403/429 ``userRateLimitExceeded`` or ``rateLimitExceeded``.
        """
        now = time.monotonic()
        self._trim(self._project, now)
        if len(self._project) + units > self.project_rpm:
            raise injected(self.status, "rateLimitExceeded")
        if user is not None:
            window = self._users.setdefault(user, deque())
            self._trim(window, now)
            if len(window) + units > self.user_rpm:
                raise injected(self.status, "userRateLimitExceeded" if self.status == 403
                               else "rateLimitExceeded")
            window.extend([now] * units)
        self._project.extend([now] * units)

    def reset(self) -> None:
        """Forget all counted requests."""
        self._project.clear()
        self._users.clear()


@dataclass
class ErrorRule:
    """Fail the next ``count`` matching calls (or a fraction ``rate`` of them)."""

    status: int
    reason: str | None = None
    count: int | None = 1
    rate: float | None = None
    user: str | None = None
    path: str | None = None
    """Regular expression searched in the request path."""
    method: str | None = None
    retry_after: str | None = None
    """``Retry-After`` header sent with the error (delta-seconds or an HTTP date)."""

    def matches(self, method: str, path: str, user: str | None) -> bool:
        """Whether this rule applies to the call."""
        if self.user is not None and self.user != user:
            return False
        if self.method is not None and self.method.upper() != method:
            return False
        return not (self.path is not None and not re.search(self.path, path))


@dataclass
class Faults:
    """Active fault injection rules."""

    errors: list[ErrorRule] = field(default_factory=list)
    latency_ms: float = 0.0
    token_errors: list[ErrorRule] = field(default_factory=list)

    def configure(self, spec: dict[str, Any]) -> set[str]:
        """Apply the error/latency part of a control document; returns the keys handled.

        ``errors``: list of ``{"status", "reason"?, "count"?, "rate"?, "user"?, "path"?,
        "method"?, "retry_after"?}`` (``count`` defaults to 1; with ``rate`` only, the rule
        stays until cleared); ``token_errors`` likewise for the token endpoint; ``latency_ms``;
        ``clear_errors``: drop all rules.
        """
        handled = set()
        if spec.get("clear_errors"):
            self.errors.clear()
            self.token_errors.clear()
            handled.add("clear_errors")
        for key, target in (("errors", self.errors), ("token_errors", self.token_errors)):
            if key in spec:
                for raw in spec[key]:
                    rule = ErrorRule(
                        status=int(raw["status"]), reason=raw.get("reason"),
                        count=raw.get("count", None if "rate" in raw else 1),
                        rate=raw.get("rate"), user=raw.get("user"), path=raw.get("path"),
                        method=raw.get("method"),
                        retry_after=None if raw.get("retry_after") is None
                        else str(raw["retry_after"]))
                    target.append(rule)
                handled.add(key)
        if "latency_ms" in spec:
            self.latency_ms = float(spec["latency_ms"])
            handled.add("latency_ms")
        return handled

    def check(self, method: str, path: str, user: str | None,
              rules: list[ErrorRule] | None = None) -> ApiError | None:
        """The injected error for this call, if any (consumes one ``count``)."""
        rules = self.errors if rules is None else rules
        for rule in list(rules):
            if not rule.matches(method, path, user):
                continue
            if rule.rate is not None and random.random() >= rule.rate:
                continue
            if rule.count is not None:
                rule.count -= 1
                if rule.count <= 0:
                    rules.remove(rule)
            error = injected(rule.status, rule.reason)
            if rule.retry_after is not None:
                error.headers["Retry-After"] = rule.retry_after
            return error
        return None
