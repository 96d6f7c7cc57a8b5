"""Outbound call budgets: per project per minute and per user per minute.

Google counts requests in a sliding one-minute window (10,000 per project and 600 per user
are the legacy public figures). :class:`QuotaLimiter` keeps the same kind of window on
the gateway's side: every outbound call first takes one unit from the project budget and
one from its user's budget, and *waits* until both have room, so the gateway slows down
before Google has to tell it to. Nothing fails here; callers just take longer.

When several gateway processes share one database (PostgreSQL), the project budget is
also taken from a :class:`~hybrid_calendar.store.budget.SharedBudget` in that database,
so the calls of all processes together stay inside it. :func:`persistent_limiter` keeps
the per-user budgets there too (a restarted process, or a fail-over, still counts the
user's minute), as members of one pool: once per sub-window a process takes a share of
every user's budget in one store write, and a user's first units of the sub-window are
spent from it without asking the store (:mod:`hybrid_calendar.store.budget_pool`).

:func:`quota_report` is the read side, for the ``report_quota`` hook: it reads the same
store rows the budgets are taken from, so every process reports the same figures.
"""

from __future__ import annotations

import asyncio
import hashlib
import time
from collections import deque
from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING

from hybrid_calendar.models import QuotaUse

if TYPE_CHECKING:
    from datetime import datetime

    from hybrid_calendar.store.base import Store
    from hybrid_calendar.store.budget import SharedBudget
    from hybrid_calendar.store.budget_pool import BudgetPool

WINDOW_SECONDS = 60.0
SHARED_PROJECT_BUDGET = "google:project"
"""Name of the project budget in the store."""
SHARED_USER_BUDGET = "google:user"
"""Prefix of the per-user budgets in the store (``google:user:<digest of the subject>``)."""


def user_budget_name(subject: str) -> str:
    """The store name of ``subject``'s per-user budget: a SHA-256 digest of the address,
    never the address itself (the budget table is not encrypted). The digest is unkeyed,
    so someone holding the database and a list of addresses can match them: it keeps the
    address out of plain sight, it is not encryption."""
    return f"{SHARED_USER_BUDGET}:{hashlib.sha256(subject.encode()).hexdigest()[:32]}"
PROJECT_BUDGET_NAME = "google units/min (project: all organisations)"
"""How :func:`quota_report` names the project budget (every organisation shares it)."""
USER_BUDGET_NAME = "google units/min (busiest user)"
"""How :func:`quota_report` names the per-user budget (the organisation's busiest user)."""
MAX_TRACKED_USERS = 10_000
"""Per-user budget objects held in memory at most (the counts themselves are stored)."""


class SlidingWindow:
    """At most ``limit`` events in any ``window`` seconds (an exact log of recent events)."""

    __slots__ = ("_times", "limit", "window")

    def __init__(self, limit: int, window: float = WINDOW_SECONDS) -> None:
        if limit < 1:
            raise ValueError("limit must be at least 1")
        self.limit = limit
        self.window = window
        self._times: deque[float] = deque()

    def wait_time(self, now: float, units: int = 1) -> float:
        """Seconds until ``units`` more events fit (0 when they fit now)."""
        times = self._times
        while times and times[0] <= now - self.window:
            times.popleft()
        excess = len(times) + min(units, self.limit) - self.limit
        if excess <= 0:
            return 0.0
        return times[excess - 1] + self.window - now

    def record(self, now: float, units: int = 1) -> None:
        """Count ``units`` events at ``now`` (only after :meth:`wait_time` returned 0)."""
        self._times.extend([now] * units)

    def __len__(self) -> int:
        return len(self._times)


class QuotaLimiter:
    """Project-wide and per-user sliding windows that callers wait on.

    :param project_per_minute: calls per minute for the whole gateway.
    :param user_per_minute: calls per minute for any one user.
    :param monotonic: time source (seconds); injectable for tests.
    :param sleep: how to wait; injectable for tests.
    :param shared_project: the project budget every process of the database takes from
        (None: this process is the only one).
    """

    def __init__(self, project_per_minute: int, user_per_minute: int, *,
                 monotonic: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
                 shared_project: SharedBudget | None = None) -> None:
        self.shared_project = shared_project
        self.shared_user: Callable[[str], SharedBudget] | None = None
        """Per-user budgets kept in the database (see :func:`persistent_limiter`)."""
        self.user_pool: BudgetPool | None = None
        """The pool of the per-user budgets in the database (one store take per
        sub-window covers every user's first units), when they are kept there. Its
        ``share`` is 0 when the limit is too small for one: this process then takes none,
        but the pool's units still count, in the takes and in :func:`quota_report`."""
        self.project = SlidingWindow(project_per_minute)
        self.user_per_minute = user_per_minute
        self._users: dict[str, SlidingWindow] = {}
        self._monotonic = monotonic
        self._sleep = sleep
        self._last_prune = monotonic()
        self.waited_seconds = 0.0
        """Total time callers spent waiting for budget (for metrics and tests)."""

    async def acquire(self, user_key: str, units: int = 1) -> None:
        """Wait until a call costing ``units`` (:data:`QUOTA_UNITS
        <hybrid_calendar_google.client.QUOTA_UNITS>`) for ``user_key`` fits both budgets,
        then count it."""
        while True:
            now = self._monotonic()
            user = self._users.get(user_key)
            if user is None:
                user = self._users[user_key] = SlidingWindow(self.user_per_minute)
            delay = max(self.project.wait_time(now, units), user.wait_time(now, units))
            if delay <= 0:
                self.project.record(now, units)
                user.record(now, units)
                self._forget_idle(now)
                if self.shared_project is not None:
                    await self.shared_project.acquire(units)
                if self.shared_user is not None:
                    await self.shared_user(user_key).acquire(units)
                return
            self.waited_seconds += delay
            await self._sleep(delay)

    def _forget_idle(self, now: float) -> None:
        """Once a window, drop per-user windows with nothing left in them (bounded memory)."""
        if now - self._last_prune < self.project.window:
            return
        self._last_prune = now
        for key in [k for k, w in self._users.items() if w.wait_time(now) == 0 and not len(w)]:
            del self._users[key]

    def monotonic(self) -> float:
        """The time source of the in-process windows (seconds)."""
        return self._monotonic()

    def user_used(self, user_key: str, now: float) -> int:
        """Units ``user_key`` took in this process's window ending ``now``."""
        window = self._users.get(user_key)
        if window is None:
            return 0
        window.wait_time(now)  # drops what left the window
        return len(window)

    def tracked_users(self) -> int:
        """How many per-user windows are held (for tests and metrics)."""
        return len(self._users)


def persistent_limiter(store: Store, project_per_minute: int, user_per_minute: int, *,
                       now: Callable[[], datetime],
                       sleep: Callable[[float], Awaitable[None]] = asyncio.sleep
                       ) -> QuotaLimiter:
    """A :class:`QuotaLimiter` whose project and per-user budgets are also kept in the
    store (:class:`~hybrid_calendar.store.budget.SharedBudget`): a restarted gateway, or
    another process of the same database, counts the units already spent this minute.

    The one place that decides where budgets live: swap it to move them elsewhere.
    """
    from hybrid_calendar.store.budget import SharedBudget
    from hybrid_calendar.store.budget_pool import BudgetPool

    limiter = QuotaLimiter(project_per_minute, user_per_minute, sleep=sleep,
                           shared_project=SharedBudget(store, SHARED_PROJECT_BUDGET,
                                                       project_per_minute, now=now,
                                                       sleep=sleep))
    pool = BudgetPool(store, SHARED_USER_BUDGET, user_per_minute, now=now)
    users: dict[str, SharedBudget] = {}

    def user_budget(key: str) -> SharedBudget:
        budget = users.get(key)
        if budget is None:
            if len(users) >= MAX_TRACKED_USERS:
                users.clear()  # their units stay counted in the store (and the pool)
            # a member of the pool even when this process takes no share of it (its limit
            # too small): another process, or this one before a restart with a higher
            # limit, may have spent from the pool, and Google counts those units too
            budget = users[key] = SharedBudget(store, user_budget_name(key),
                                               user_per_minute, now=now, sleep=sleep,
                                               pool=pool)
        return budget

    limiter.shared_user = user_budget
    limiter.user_pool = pool
    return limiter


async def quota_report(limiter: QuotaLimiter, user_keys: Sequence[str]) -> list[QuotaUse]:
    """The project budget and the busiest of ``user_keys``' per-user budgets, in units,
    as they stand now.

    Each is read where it is enforced across processes: from the store when it lives
    there (:func:`persistent_limiter`: what every process of the database took, blocks a
    process reserved and has not spent yet included, and for a user the pool's shares
    too), else from this process's window.

    :param limiter: the limiter the Google client takes its units from.
    :param user_keys: the budget keys (delegated addresses) of an organisation's users.
    """
    now = limiter.monotonic()
    limiter.project.wait_time(now)  # drops what left the window
    project_used, window = len(limiter.project), limiter.project.window
    users_used = [limiter.user_used(k, now) for k in user_keys]
    shared = limiter.shared_project
    if shared is not None:
        names = [SHARED_PROJECT_BUDGET]
        if limiter.shared_user is not None:
            names += [user_budget_name(k) for k in user_keys]
        pool = None if limiter.user_pool is None else limiter.user_pool.name
        read = await shared.store.read_budgets(names, shared.window_seconds, shared.now(),
                                               pool=pool)
        project_used, window = read.pop(SHARED_PROJECT_BUDGET).used, shared.window_seconds
        if limiter.shared_user is not None:
            users_used = [use.used for use in read.values()]
    return [QuotaUse(PROJECT_BUDGET_NAME, project_used, limiter.project.limit, window),
            QuotaUse(USER_BUDGET_NAME, max(users_used, default=0), limiter.user_per_minute,
                     window)]
