"""Each backend's one-call ``add_users`` and ``enqueue_many`` give what one call per item
gave (the base class's defaults, the admin API's former loop).

Random requests (new addresses, known ones in every state, case variants, addresses
given twice, two organisations; jobs new, queued already, given twice) run through a
backend's own batch operation on one database and through the base class's loop over the
single operations on another, seeded alike; the answers and every row must match.
"""

from __future__ import annotations

import random
from collections.abc import AsyncIterator, Callable
from datetime import timedelta
from pathlib import Path

import pytest

from hybrid_calendar.models import User, UserState
from hybrid_calendar.store.base import QueuedJob, Store
from hybrid_calendar.store.postgres.store import PostgresStore
from hybrid_calendar.store.sqlite import SqliteStore
from hybrid_calendar.store.testing import NOW, ReversibleCipher
from hybrid_calendar.store.testing.samples import seed
from tests.postgres_server import create_schema
from tests.store.test_conformance import SqliteStoreWithDefaultBatches

pytestmark = pytest.mark.anyio
ROUNDS = 25
STATES = list(UserState)


class PostgresStoreWithDefaultBatches(PostgresStore):
    """PostgreSQL with the base class's batch operations (one call per item)."""

    add_users = Store.add_users
    enqueue_many = Store.enqueue_many


@pytest.fixture(params=["sqlite", "postgres"])
async def pair(request: pytest.FixtureRequest, tmp_path: Path
               ) -> AsyncIterator[tuple[Store, Store]]:
    """A store with the backend's own batch operations and one with the defaults."""
    stores: list[Store]
    if request.param == "sqlite":
        stores = [SqliteStore(tmp_path / "own.sqlite3", ReversibleCipher()),
                  SqliteStoreWithDefaultBatches(tmp_path / "loop.sqlite3", ReversibleCipher())]
    else:
        server = request.getfixturevalue("postgres_server")
        kinds: list[Callable[..., Store]] = [PostgresStore, PostgresStoreWithDefaultBatches]
        stores = [kind(create_schema(server)[0], ReversibleCipher(), pool_size=2)
                  for kind in kinds]
    for store in stores:
        await store.open()
        await seed(store)
    try:
        yield stores[0], stores[1]
    finally:
        for store in stores:
            await store.close()


def _addresses(rng: random.Random) -> list[str]:
    """1-8 addresses of 24 people, in random case (the blind index ignores it)."""
    spell = [str.lower, str.upper, str.title]
    return [rng.choice(spell)(f"user{rng.randint(0, 11)}@"
                              f"{rng.choice(['example.com', 'elsewhere.example'])}")
            for _ in range(rng.randint(1, 8))]


async def test_add_users_in_one_call_matches_one_call_per_address(
        pair: tuple[Store, Store]) -> None:
    own, loop = pair
    rng = random.Random(16)
    fresh = iter(range(1_000_000))
    for _round in range(ROUNDS):
        users = []
        for address in _addresses(rng):
            org = "o1" if address.lower().endswith("example.com") else "o2"
            state = rng.choice([UserState.PENDING, UserState.PENDING, rng.choice(STATES)])
            users.append(User(id=f"n{next(fresh)}", org_id=org, email=address, state=state,
                              reason=None if state != UserState.ERROR else "refused",
                              locale=rng.choice([None, "de"])))
        assert await own.add_users(users) == await loop.add_users(users)
        for stored in await own.list_users():  # others change state meanwhile
            if rng.random() < 0.3:
                state, reason = rng.choice(STATES), rng.choice([None, "why"])
                await own.set_user_state(stored.id, state, reason)
                await loop.set_user_state(stored.id, state, reason)
        assert await own.list_users() == await loop.list_users()
    assert len(await own.list_users()) > 12  # known addresses came up again and again


async def test_enqueue_many_matches_one_enqueue_per_job(pair: tuple[Store, Store]) -> None:
    own, loop = pair
    rng = random.Random(61)
    for round_number in range(ROUNDS):
        jobs = [QueuedJob(kind, f"{kind}:u{user}", {"user_id": f"u{user}", "n": round_number},
                          NOW + timedelta(seconds=rng.randint(-5, 5)),
                          lane=rng.choice([None, f"user:u{user}"]))
                for kind, user in ((rng.choice(["sync", "activate"]), rng.randint(0, 9))
                                   for _ in range(rng.randint(1, 8)))]
        assert await own.enqueue_many(jobs) == await loop.enqueue_many(jobs)
        for _claim in range(rng.randint(0, 3)):
            taken = [await store.claim(NOW + timedelta(seconds=5), 60) for store in (own, loop)]
            assert len({None if job is None else (job.key, str(job.payload), job.run_at)
                        for job in taken}) == 1
            if taken[0] is not None and rng.random() < 0.5:
                for store, job in zip((own, loop), taken, strict=True):
                    assert job is not None
                    await store.finish(job.id)
        assert await own.job_counts() == await loop.job_counts()
