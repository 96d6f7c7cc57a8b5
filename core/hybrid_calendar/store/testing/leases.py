"""Store suite, part 12: named leases (``hold_lease``), with which several processes on one
database agree which of them runs a duty meant to run once (the engine's sweep)."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from hybrid_calendar.store.base import Store
from hybrid_calendar.store.testing.support import (
    NOW,
    ReversibleCipher,
    StoreBackend,
    StoreFixtures,
    covers,
)

RACERS = 12
"""Holders asking for one free lease at the same moment."""


class LeaseTests(StoreFixtures):
    """``hold_lease``: one holder at a time on a shared database, each until it lapses."""

    @pytest.mark.anyio
    @covers("hold_lease")
    async def test_a_lease_has_one_holder_until_it_lapses(
            self, store: Store, store_backend: StoreBackend, cipher: ReversibleCipher,
            called: set[str]) -> None:
        other = await self.reopen(store_backend, cipher, called)  # another process
        try:
            if not store.shares_database:  # one process: every lease is its own
                assert await store.hold_lease("sweep", "a", NOW, 60)
                assert await other.hold_lease("sweep", "b", NOW, 60)
                return
            second = timedelta(seconds=1)
            assert await store.hold_lease("sweep", "a", NOW, 60)
            assert not await other.hold_lease("sweep", "b", NOW + 30 * second, 60)
            assert await store.hold_lease("sweep", "a", NOW + 50 * second, 60)  # renewed
            assert not await other.hold_lease("sweep", "b", NOW + 100 * second, 60)
            assert await other.hold_lease("sweep", "b", NOW + 111 * second, 60)  # lapsed
            assert not await store.hold_lease("sweep", "a", NOW + 112 * second, 60)
            assert await store.hold_lease("purge", "a", NOW + 112 * second, 60)  # by name
        finally:
            await other.close()

    @pytest.mark.anyio
    @covers("hold_lease", "release_lease")
    async def test_a_released_lease_is_free_at_once_and_only_its_holder_releases_it(
            self, store: Store, store_backend: StoreBackend, cipher: ReversibleCipher,
            called: set[str]) -> None:
        other = await self.reopen(store_backend, cipher, called)
        try:
            second = timedelta(seconds=1)
            assert await store.hold_lease("sweep", "a", NOW, 60)
            await other.release_lease("sweep", "b")  # not b's: a keeps it
            await other.release_lease("purge", "a")  # another name: nothing held
            assert await other.hold_lease("sweep", "b", NOW + second, 60) == (
                not store.shares_database)
            assert await store.hold_lease("sweep", "a", NOW + 2 * second, 60)
            await store.release_lease("sweep", "a")
            assert await other.hold_lease("sweep", "b", NOW + 3 * second, 60)  # at once
            assert await store.hold_lease("sweep", "a", NOW + 4 * second, 60) == (
                not store.shares_database)
        finally:
            await other.close()

    @pytest.mark.anyio
    @covers("hold_lease")
    async def test_holders_racing_for_a_free_lease_leave_one_holder(
            self, store: Store, store_backend: StoreBackend, cipher: ReversibleCipher,
            called: set[str]) -> None:
        other = await self.reopen(store_backend, cipher, called)
        try:
            held = await asyncio.gather(*(
                (store if n % 2 else other).hold_lease("sweep", f"holder-{n}", NOW, 60)
                for n in range(RACERS)))
            assert sum(held) == (1 if store.shares_database else RACERS), held
        finally:
            await other.close()
