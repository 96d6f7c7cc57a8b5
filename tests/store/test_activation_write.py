"""The built-in stores' ``write_activation`` (one SQLite transaction, one PostgreSQL
statement) gives what the separate operations of ``Store``'s default give, and keeps
nothing when any part of it fails.

Random activations run for Alice through the store's own write and for Bob through the
base class's default (``put_channel``, ``put_user``, ``enqueue_notification``,
``set_out_of_office``, ``reset_cursor``, ``enqueue`` in turn), on the same inputs; both end
with the same rows and results.
"""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest

from hybrid_calendar.models import Channel, User, UserState
from hybrid_calendar.store.base import ActivationWrite, QueuedJob, Store
from hybrid_calendar.store.postgres.store import PostgresStore
from hybrid_calendar.store.sqlite import SqliteStore
from hybrid_calendar.store.testing import NOW
from hybrid_calendar.store.testing.samples import ALICE, BOB, presence, seed

pytestmark = pytest.mark.anyio



def _job(user: User, reason: str) -> QueuedJob:
    return QueuedJob("sync", f"sync:{user.id}", {"user_id": user.id, "reason": reason}, NOW,
                     lane=f"user:{user.id}")


async def _state(store: Store, user: User) -> dict[str, Any]:
    """What an activation writes of ``user``, with the user's id taken out."""
    stored = await store.get_user(user.id)
    assert stored is not None
    sync = await store.get_sync_state(user.id)
    notifications = sorted(
        (n.key.replace(user.id, "<user>"), n.kind, n.state, dict(n.payload))
        for n in await store.list_notifications(user))
    channels = sorted((c.id.replace(user.id, "<user>"), c.resource_id, c.token, c.expires_at)
                      for c in await store.list_channels(user_id=user.id))
    return {"user": (stored.state, stored.reason, stored.locale, stored.timezone),
            "sync": (sync.cursor, sync.out_of_office), "notifications": notifications,
            "channels": channels}


def _channel(user: User, number: int) -> Channel:
    """A channel as an activation opens it: its token in clear (the same for both users, so
    the stored digests compare)."""
    return Channel(f"ch-{user.id}-{number}", user.id, f"res-{number}", f"token-{number}",
                   NOW + timedelta(days=7))


async def test_the_one_write_matches_the_separate_operations(either_store: Store) -> None:
    store = either_store
    await seed(store, ALICE, BOB)
    rng = random.Random(9)
    jobs_before = 0
    for round_ in range(40):
        locale = rng.choice([None, "en", "de-DE"])
        timezone = rng.choice([None, "Europe/Berlin"])
        away = rng.random() < 0.5
        with_presence = rng.random() < 0.6
        reset = rng.random() < 0.3
        cursor = rng.random() < 0.5
        key_again = rng.random() < 0.3  # a retried activation: the same presence key
        with_channel = rng.random() < 0.7
        channel_number = rng.choice([0, round_])  # 0: the same channel written again
        results = []
        for user, write_with in ((ALICE, store.write_activation),
                                 (BOB, lambda w, s=store: Store.write_activation(s, w))):
            if cursor:
                await store.apply_changes(user, [], [], f"c{round_}", full_sync=False,
                                          synced_at=NOW)
            key = f"presence:{user.id}:{0 if key_again else round_}"
            write = ActivationWrite(
                replace(user, state=UserState.ACTIVE, locale=locale, timezone=timezone),
                _job(user, "activation"),
                presence=presence(key, user=user, away=away) if with_presence else None,
                presence_at=NOW, out_of_office=away, reset_cursor=reset,
                channel=_channel(user, channel_number) if with_channel else None)
            results.append(await write_with(write))
        assert results[0] == results[1], round_
        assert await _state(store, ALICE) == await _state(store, BOB), round_
        counts = await store.job_counts()
        assert counts == {"queued": 2}, round_  # one each: later writes coalesced
        jobs_before = counts["queued"]
    assert jobs_before == 2


async def test_nothing_is_kept_when_a_part_fails(either_store: Store) -> None:
    """The job's insert is made to fail inside the database (a trigger): the user stays
    as it was, no presence is queued or stored, and the error reaches the caller."""
    store = either_store
    await seed(store, ALICE, BOB)
    before = await _state(store, ALICE)
    if isinstance(store, SqliteStore):
        await store.call(lambda db: db.execute(
            "CREATE TRIGGER refuse_jobs BEFORE INSERT ON jobs "
            "BEGIN SELECT RAISE(ABORT, 'no jobs today'); END"))
    else:
        assert isinstance(store, PostgresStore)
        await store.execute(
            "CREATE FUNCTION refuse_jobs() RETURNS trigger LANGUAGE plpgsql AS "
            "$$ BEGIN RAISE EXCEPTION 'no jobs today'; END $$")
        await store.execute("CREATE TRIGGER refuse_jobs BEFORE INSERT ON jobs "
                            "FOR EACH ROW EXECUTE FUNCTION refuse_jobs()")
    with pytest.raises(Exception, match="no jobs today"):
        await store.write_activation(ActivationWrite(
            replace(ALICE, state=UserState.ACTIVE, locale="de-DE"), _job(ALICE, "activation"),
            presence=presence("p1", away=True), out_of_office=True, reset_cursor=True,
            channel=_channel(ALICE, 1)))
    assert await _state(store, ALICE) == before
    assert await store.job_counts() == {}
