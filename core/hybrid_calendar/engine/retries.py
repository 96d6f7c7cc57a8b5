"""The retry policy of jobs: a failed job is re-run by the durable job queue.

A provider call that keeps failing is retried by exactly one component, the engine's job
queue (a sink's delivery is retried by the outbox alone, with this policy and the
``notifications.*`` figures: :mod:`.delivery`). Plugins make
each outbound call once and raise; they never sleep and try again themselves (the one
exception is HTTP 401, answered by one retry with a freshly minted token, and HTTP 412,
answered by re-reading the resource: neither repeats a failing call). The engine then:

* re-runs the job after capped exponential backoff with full jitter: before attempt
  ``n + 1`` it waits a uniformly random time in ``[0, min(cap, base * 2**(n-1))]``
  (``sync.retry_base_seconds``, ``sync.retry_cap_seconds``), or the provider's
  ``Retry-After`` when that is longer (at most ``sync.retry_cap_seconds``);
* parks the job (kept for inspection, counted by ``/api/v1/status``) once it has made
  ``sync.job_max_attempts`` attempts, first included;
* parks at once a :class:`~hybrid_calendar.errors.ProviderError` that says retrying cannot
  help (a 4xx other than a rate limit), rather than asking again.

So a persistent failure of one Google call costs at most ``sync.job_max_attempts`` calls,
spread over time by the backoff, while the job's worker is free for other users.
Retries wait in the queue (``run_at``), not in a sleeping task, so they survive a restart.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta

from hybrid_calendar.errors import ProviderError, RateLimitError, TransientError


@dataclass(frozen=True)
class RetryPolicy:
    """When a failed job runs again, and when it is given up.

    :ivar max_attempts: attempts of one job, the first included (``sync.job_max_attempts``).
    :ivar base_seconds: the first retry waits up to this long (``sync.retry_base_seconds``).
    :ivar cap_seconds: no wait is longer, ``Retry-After`` included (``sync.retry_cap_seconds``).
    :ivar random: uniform in ``[0, 1)``; injectable so tests can pin the jitter.
    """

    max_attempts: int = 8
    base_seconds: float = 2.0
    cap_seconds: float = 900.0
    random: Callable[[], float] = field(default=random.random, repr=False, compare=False)

    def retries(self, attempts: int, err: BaseException) -> bool:
        """Whether a job that failed with ``err`` on attempt ``attempts`` runs again."""
        return attempts < self.max_attempts and retryable(err)

    def delay(self, attempts: int, err: BaseException | None = None) -> timedelta:
        """How long to wait after failed attempt number ``attempts`` (1 for the first)."""
        ceiling = min(self.cap_seconds, self.base_seconds * 2.0 ** max(0, attempts - 1))
        seconds = self.random() * ceiling
        asked = getattr(err, "retry_after", None)
        if isinstance(err, RateLimitError | TransientError) and asked:
            seconds = max(seconds, min(float(asked), self.cap_seconds))
        return timedelta(seconds=seconds)


def retryable(err: BaseException) -> bool:
    """False for a provider's permanent refusal (a 4xx that is not a rate limit).

    Rate limits, server and network failures, and anything that is not a provider answer
    (the KMS, the database, a bug that may depend on data that changes) are worth retrying.
    """
    if isinstance(err, RateLimitError | TransientError):
        return True
    if isinstance(err, ProviderError):
        return err.status is None or err.status >= 500 or err.status in (408, 429)
    return True
