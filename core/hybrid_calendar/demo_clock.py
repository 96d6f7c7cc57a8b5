"""The demo's clock: the wall clock, moved forward when the walkthrough skips ahead.

``hybrid-calendar demo`` shows things that happen at a meeting's start (Join buttons) and
after a vacation responder is read again; rather than wait for them, the walkthrough jumps
its clock to the moment (:meth:`JumpingClock.jump_to`). Between jumps time runs as usual,
so the engine's loops, leases and expiries behave as in production. The gateway and the
emulators that keep time share one instance.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta


class JumpingClock:
    """Wall-clock time plus an offset that only grows."""

    def __init__(self) -> None:
        self._offset = timedelta(0)

    def now(self) -> datetime:
        """The current (possibly skipped-ahead) time, timezone-aware UTC."""
        return datetime.now(UTC) + self._offset

    @property
    def ahead(self) -> timedelta:
        """How far ahead of the wall clock the jumps have moved it."""
        return self._offset

    def advance(self, delta: timedelta) -> None:
        """Skip ``delta`` ahead (never back: a negative ``delta`` is ignored)."""
        self._offset += max(delta, timedelta(0))

    def jump_to(self, when: datetime) -> None:
        """Skip ahead to ``when`` (nothing happens if it is already past)."""
        self.advance(when - self.now())
