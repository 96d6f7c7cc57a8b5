"""Store suite, part 9: a successful activation's writes in one call
(:meth:`Store.write_activation`)."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import anyio
import pytest

from hybrid_calendar.models import Channel, DeliveryState, NotificationKind, UserState
from hybrid_calendar.store.base import (
    ActivationWrite,
    ActivationWriteResult,
    QueuedJob,
    Store,
    channel_token_matches,
)
from hybrid_calendar.store.testing.samples import ALICE, BOB, presence, seed
from hybrid_calendar.store.testing.support import (
    NOW,
    ReversibleCipher,
    StoreBackend,
    StoreFixtures,
    Wakes,
    covers,
)

PENDING_ALICE = replace(ALICE, state=UserState.VALIDATING, locale="en")
SYNC = QueuedJob("sync", f"sync:{ALICE.id}", {"user_id": ALICE.id, "reason": "activation"},
                 NOW, lane=f"user:{ALICE.id}")


class ActivationWriteTests(StoreFixtures):
    """The user made active, its presence and its first sync, together."""

    @pytest.mark.anyio
    @covers("write_activation", "get_user", "get_sync_state", "list_notifications",
            "claim")
    async def test_write_activation_stores_the_user_presence_and_first_sync(
            self, store: Store) -> None:
        await seed(store, PENDING_ALICE)
        await store.enqueue_notification(ALICE, presence("p-old", away=True), supersede=True)
        active = replace(ALICE, locale="de-DE", timezone="Europe/Berlin")
        written = await store.write_activation(ActivationWrite(
            active, SYNC, presence=presence("p-new", away=False), presence_at=NOW,
            out_of_office=False))
        assert written == ActivationWriteResult(presence_added=True, sync_queued=True)
        assert await store.get_user(ALICE.id) == active
        assert (await store.get_sync_state(ALICE.id)).out_of_office is False
        pending = await store.list_notifications(ALICE, state=DeliveryState.PENDING)
        assert [(n.key, n.kind) for n in pending] == [("p-new", NotificationKind.PRESENCE)]
        assert dict(pending[0].payload) == {"out_of_office": False}

        # again (a retried job): the key is in the outbox and a sync job of the key is
        # queued, so nothing is added; the user and the state are written as given
        again = await store.write_activation(ActivationWrite(
            replace(active, locale="fr"), SYNC, presence=presence("p-new", away=False),
            out_of_office=True))
        assert again == ActivationWriteResult(presence_added=False, sync_queued=False)
        user = await store.get_user(ALICE.id)
        assert user is not None and user.locale == "fr"
        assert (await store.get_sync_state(ALICE.id)).out_of_office is True
        job = await store.claim(NOW, 60)
        assert job is not None and (job.kind, job.key) == ("sync", SYNC.key)
        assert dict(job.payload) == dict(SYNC.payload)
        assert await store.claim(NOW, 60) is None  # one job: the two writes queued one

    @pytest.mark.anyio
    @covers("write_activation", "apply_changes", "get_sync_state", "job_counts")
    async def test_write_activation_without_presence_keeps_it_and_may_forget_the_cursor(
            self, store: Store) -> None:
        await seed(store, PENDING_ALICE)
        await store.set_out_of_office(ALICE.id, True)
        await store.apply_changes(ALICE, [], [], "cursor-1", full_sync=False, synced_at=NOW)
        written = await store.write_activation(ActivationWrite(ALICE, SYNC))
        assert written == ActivationWriteResult(presence_added=False, sync_queued=True)
        state = await store.get_sync_state(ALICE.id)
        assert (state.out_of_office, state.cursor) == (True, "cursor-1")
        assert await store.list_notifications(ALICE) == []
        await store.write_activation(ActivationWrite(ALICE, SYNC, reset_cursor=True))
        state = await store.get_sync_state(ALICE.id)
        assert (state.out_of_office, state.cursor) == (True, None)
        assert await store.job_counts() == {"queued": 1}

    @pytest.mark.anyio
    @covers("write_activation", "get_channel", "list_channels")
    async def test_write_activation_stores_the_new_channel_by_its_token_digest(
            self, store: Store) -> None:
        await seed(store, PENDING_ALICE)
        opened = Channel("ch-new", ALICE.id, "res-1", "secret-token-of-the-channel",
                         NOW + timedelta(days=7))
        await store.write_activation(ActivationWrite(ALICE, SYNC, channel=opened))
        stored = await store.get_channel("ch-new")
        assert stored is not None
        assert (stored.user_id, stored.resource_id, stored.expires_at, stored.provider) == (
            ALICE.id, "res-1", opened.expires_at, "google")
        assert stored.token != opened.token  # only its digest is kept
        assert channel_token_matches(stored, opened.token)
        assert not channel_token_matches(stored, "another-token")
        # a retried activation writes the same channel again: still one
        await store.write_activation(ActivationWrite(ALICE, SYNC, channel=opened))
        assert [c.id for c in await store.list_channels(user_id=ALICE.id)] == ["ch-new"]

    @pytest.mark.anyio
    @covers("write_activation", "listen_for_jobs")
    async def test_write_activation_wakes_other_stores_listeners_only_when_asked(
            self, store: Store, store_backend: StoreBackend, cipher: ReversibleCipher,
            called: set[str]) -> None:
        """As ``enqueue``: the sync job of a write with ``notify`` wakes the listeners of
        other stores on the database; one with ``notify=False`` (its caller wakes a
        worker of its own) wakes nobody."""
        await seed(store, PENDING_ALICE, replace(BOB, state=UserState.VALIDATING))
        wakes = Wakes()
        other = await self.reopen(store_backend, cipher, called)
        try:
            async with anyio.create_task_group() as tasks:
                tasks.start_soon(store.listen_for_jobs, wakes)
                await wakes.reach(1)
                quiet = await other.write_activation(ActivationWrite(ALICE, SYNC),
                                                     notify=False)
                told = await other.write_activation(ActivationWrite(
                    BOB, QueuedJob("sync", f"sync:{BOB.id}", {"user_id": BOB.id}, NOW,
                                   lane=f"user:{BOB.id}")))
                assert quiet.sync_queued and told.sync_queued
                await wakes.reach(2)  # by the second; the quiet one came first
                tasks.cancel_scope.cancel()
        finally:
            await other.close()
        assert wakes.count == 2  # listening, then the write that asked to tell
