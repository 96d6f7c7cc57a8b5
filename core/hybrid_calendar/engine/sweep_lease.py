"""Which of several gateway processes on one database runs the sweep.

The sweep (:func:`~hybrid_calendar.engine.sweeps.run_sweep`) renews push channels, polls
each user's out-of-office state, re-syncs quiet users and purges old meetings. Each of
those is meant to happen once: with every process sweeping, each vacation responder was
read once per process at each poll, and processes whose sweeps overlapped (thousands of
channels falling due together) renewed the same channels, spending Google's quota in
proportion to the number of processes. So a process sweeps only while it holds the
store's ``sweep`` lease (:meth:`Store.hold_lease`), taken for
:data:`LEASE_INTERVALS` sweep intervals and renewed at every sweep and while one runs.
A process that stops cleanly gives it up (:meth:`SweepLease.release`), so another takes it
at its next sweep; one that dies stops renewing it, and another takes it over once it
lapses.
The holder keeps the memory the sweep relies on (when each user's presence was read,
which renewals failed lately), so it stays with one process while that process lives.

A store whose database one process alone uses (SQLite) holds every lease without I/O.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from typing import TYPE_CHECKING

from hybrid_calendar.engine import sweeps
from hybrid_calendar.store.base import PROCESS_ID

if TYPE_CHECKING:
    from hybrid_calendar.gateway import Gateway

log = logging.getLogger(__name__)

RELEASE_SECONDS = 5.0
"""How long a stopping process waits for the store to give up the lease; past that it
stops anyway and the lease lapses on its own."""

SWEEP_LEASE = "sweep"
"""The lease's name in the store."""

LEASE_INTERVALS = 3.0
"""How many sweep intervals (``sync.sweep_seconds``) a taken or renewed lease lasts."""


class SweepLease:
    """Runs the sweep in the process that holds the ``sweep`` lease."""

    def __init__(self, interval: float) -> None:
        self.interval = interval
        self.holder = f"{PROCESS_ID}/{secrets.token_hex(4)}"
        """This engine's name as the lease's holder (its process, and a token: two
        engines of one process are two holders)."""
        self.held = False
        """Whether this engine held the lease when it last asked."""

    @property
    def seconds(self) -> float:
        """How long a taken or renewed lease lasts."""
        return LEASE_INTERVALS * self.interval

    async def hold(self, gateway: Gateway) -> bool:
        """Take or renew the lease; True when this engine holds it."""
        self.held = await gateway.store.hold_lease(SWEEP_LEASE, self.holder,
                                                   gateway.clock.now(), self.seconds)
        return self.held

    async def release(self, gateway: Gateway) -> None:
        """Give the lease up when this engine holds it (the engine is stopping), so that
        another process sweeps at its next interval instead of after the lease lapses.
        A store that does not answer within :data:`RELEASE_SECONDS` is logged and left:
        the lease then lapses on its own."""
        if not (self.held and gateway.store.shares_database):
            return
        self.held = False
        try:
            await asyncio.wait_for(gateway.store.release_lease(SWEEP_LEASE, self.holder),
                                   RELEASE_SECONDS)
        except Exception as err:  # stopping anyway: the lease lapses on its own
            log.warning("sweep lease not given up (it lapses within %.0f s): %s: %s",
                        self.seconds, type(err).__name__, err)

    async def sweep(self, gateway: Gateway) -> bool:
        """One sweep if this engine holds (or now takes) the lease; True when it swept.
        While the sweep runs (renewing thousands of channels takes a while), the lease is
        renewed every interval, when other processes share the store's database."""
        if not await self.hold(gateway):
            return False
        if not gateway.store.shares_database:  # alone: nobody to keep the lease from
            await sweeps.run_sweep(gateway)
            return True
        keeper = asyncio.create_task(self._keep(gateway), name="sweep-lease")
        try:
            await sweeps.run_sweep(gateway)
        finally:
            keeper.cancel()
            await asyncio.gather(keeper, return_exceptions=True)
        return True

    async def _keep(self, gateway: Gateway) -> None:
        while True:
            await asyncio.sleep(self.interval)
            try:
                held = await self.hold(gateway)
            except Exception as err:  # the store failed: the sweep's own steps will say so
                log.warning("sweep lease not renewed: %s: %s", type(err).__name__, err)
                continue
            if not held:
                log.warning("the sweep lease passed to another process while this sweep "
                            "ran (it was not renewed in time); this sweep finishes")
                return
