"""The idle workers of one engine, and how each wake-up reaches exactly one of them.

An idle worker waits on an event of its own and claims once it is woken; it never
claims on a timer. What wakes one:

* a job queued by this process (:meth:`IdleWorkers.reserve`: the enqueuing task takes an
  idle worker before its write and wakes it after the commit, so the worker's claim sees
  the job, and no other process needs to hear of it);
* a ``NOTIFY`` of another process, or a lapsed lease re-queued here
  (:meth:`IdleWorkers.wake_one`);
* the engine's poll tick, once every ``IDLE_POLL_SECONDS`` per process (jobs that become
  due by time alone, and jobs whose wake-up went to a process that died). The tick wakes
  one worker with ``cascade``: when its claim finds a job it wakes the next idle worker
  before running it, so a batch of jobs due at once is spread over the idle workers
  within one tick, as when every idle worker looked on its own.

When no worker is idle, :meth:`IdleWorkers.wake_or_recheck` bumps :attr:`generation`:
workers in the middle of a claim that finds nothing look once more (a job may have been
committed after their claim's snapshot).
"""

from __future__ import annotations

import asyncio


class Sleeper:
    """One idle worker's wake-up: its event, and whether to wake the next idle worker
    when its claim finds a job."""

    __slots__ = ("cascade", "event")

    def __init__(self) -> None:
        self.event = asyncio.Event()
        self.cascade = False

    def wake(self, *, cascade: bool = False) -> None:
        """Let the worker claim (once; a worker woken twice claims once)."""
        self.cascade = self.cascade or cascade
        self.event.set()


class IdleWorkers:
    """Idle workers, oldest first, and the count of those woken that have not started
    their claim yet (so the engine never looks idle before they claimed)."""

    def __init__(self) -> None:
        self._sleepers: list[Sleeper] = []
        self.woken = 0
        self.generation = 0
        self.stopped = False

    async def sleep(self) -> bool:
        """Wait until woken; True when the wake-up asks for a cascade (see the module).
        Once :meth:`stop` was called it returns at once: a worker that was in the middle
        of a claim when the engine stopped must not go to sleep after the last wake-up."""
        if self.stopped:
            return False
        sleeper = Sleeper()
        self._sleepers.append(sleeper)
        try:
            await sleeper.event.wait()
        finally:
            if sleeper in self._sleepers:
                self._sleepers.remove(sleeper)
            if sleeper.event.is_set():
                self.woken -= 1  # claiming next (no await in between)
        return sleeper.cascade

    def reserve(self) -> Sleeper | None:
        """Take an idle worker for a job about to be queued here; the caller wakes it
        (:meth:`Sleeper.wake`) once the job is committed, or when queuing failed. It
        counts as woken from now on. None when no worker is idle."""
        if not self._sleepers:
            return None
        self.woken += 1
        return self._sleepers.pop(0)

    def wake_one(self, *, cascade: bool = False) -> bool:
        """Wake one idle worker (one new job needs one worker); False when none was."""
        if not self._sleepers:
            return False
        self.woken += 1
        self._sleepers.pop(0).wake(cascade=cascade)
        return True

    def wake_or_recheck(self, *, cascade: bool = False) -> None:
        """A job may be due now: one idle worker claims, or, when none is idle, workers in
        the middle of a claim look once more (a woken worker's claim starts after the
        job's commit, so claims in flight need not repeat when one was woken)."""
        if not self.wake_one(cascade=cascade):
            self.generation += 1

    def stop(self) -> None:
        """Wake every idle worker and let none sleep again (the engine is stopping)."""
        self.stopped = True
        self.wake_all()

    def wake_all(self) -> bool:
        """Wake every idle worker (stopping, or waiting for idleness); False when none
        was idle."""
        woke = bool(self._sleepers)
        while self._sleepers:
            self.woken += 1
            self._sleepers.pop().wake()
        return woke
