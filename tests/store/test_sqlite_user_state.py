"""SQLite's ``set_user_state`` returns the row its ``UPDATE … RETURNING`` changed; it
must give exactly what the former update-then-read gave (docs/performance.md, "Store
round trips").

Random state changes (every state, no reason, empty, plain and non-ASCII reasons, users
of two organisations with every provider, locale and time zone field set or not, ids
that do not exist) run on two stores seeded alike: one with the store's own method, one
with the former two-step method. Every answer, every error and every row must match.
"""

from __future__ import annotations

import random
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from hybrid_calendar.errors import NotFoundError
from hybrid_calendar.models import User, UserState
from hybrid_calendar.store.sqlite import SqliteStore
from hybrid_calendar.store.testing import ReversibleCipher
from hybrid_calendar.store.testing.samples import seed

pytestmark = pytest.mark.anyio
STATES = list(UserState)
REASONS = [None, "", "delegation revoked", "calendar_unreadable: 403 Forbidden",
           "Kalender nicht lesbar – Zugriff verweigert ✗"]


class TwoStepSqliteStore(SqliteStore):
    """The former ``set_user_state``: the update, then a second query reading the user."""

    async def set_user_state(self, user_id: str, state: UserState, reason: str | None = None
                             ) -> User:
        import time

        cursor = await self._run(lambda: self.execute(
            "UPDATE users SET state = ?, reason = ?, updated_at = ? WHERE id = ?",
            (str(state), reason, time.time(), user_id)))
        if cursor.rowcount == 0:
            raise NotFoundError(f"no user with id {user_id}")
        user = await self.get_user(user_id)
        assert user is not None
        return user


def _users(rng: random.Random) -> list[User]:
    users = []
    for number in range(24):
        org, domain = rng.choice([("o1", "example.com"), ("o2", "elsewhere.example")])
        users.append(User(
            id=f"u{number}", org_id=org, email=f"Person.{number}+tag@{domain}",
            state=rng.choice(STATES), reason=rng.choice(REASONS),
            provider=rng.choice(["google", "microsoft"]),
            locale=rng.choice([None, "de-CH", "en"]),
            timezone=rng.choice([None, "Europe/Zurich", "America/New_York"])))
    return users


@pytest.fixture
async def pair(tmp_path: Path) -> AsyncIterator[tuple[SqliteStore, SqliteStore]]:
    """The store's own method and the former two-step one, each on a file seeded alike."""
    users = _users(random.Random(14))
    stores = [SqliteStore(tmp_path / "one.sqlite3", ReversibleCipher()),
              TwoStepSqliteStore(tmp_path / "two.sqlite3", ReversibleCipher())]
    for store in stores:
        await store.open()
        await seed(store, *users)
    try:
        yield stores[0], stores[1]
    finally:
        for store in stores:
            await store.close()


async def test_one_statement_answers_as_update_then_read(
        pair: tuple[SqliteStore, SqliteStore]) -> None:
    one, two = pair
    rng = random.Random(1414)
    for _change in range(300):
        user_id = rng.choice([f"u{rng.randint(0, 23)}"] * 9 + ["nobody", ""])
        state, reason = rng.choice(STATES), rng.choice(REASONS)
        answers: list[User | str] = []
        for store in (one, two):
            try:
                answers.append(await store.set_user_state(user_id, state, reason))
            except NotFoundError as err:
                answers.append(f"{type(err).__name__}: {err}")
        assert answers[0] == answers[1]
        if isinstance(answers[0], User):
            assert answers[0].state is state and answers[0].reason == reason
            assert answers[0].email.startswith("Person.")  # decrypted, not the ciphertext
    columns = "id, org_id, email_index, state, reason, provider, locale, timezone"
    rows = [await store.call(lambda db: db.execute(
        f"SELECT {columns} FROM users ORDER BY id").fetchall()) for store in (one, two)]
    assert rows[0] == rows[1]
    assert [await one.get_user(f"u{n}") for n in range(24)] == \
        [await two.get_user(f"u{n}") for n in range(24)]
