"""Store suite, part 1: life cycle, organisations and their secrets, users, channels."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest

from hybrid_calendar.errors import NotFoundError
from hybrid_calendar.models import Channel, User, UserState
from hybrid_calendar.store.base import Store, channel_token_matches
from hybrid_calendar.store.testing.samples import ALICE, BOB, CAROL, ORG, OTHER_ORG, seed
from hybrid_calendar.store.testing.support import (
    NOW,
    ReversibleCipher,
    StoreBackend,
    StoreFixtures,
    covers,
)

CONCURRENT_UPDATES = 40
"""Updates of one organisation secret run at once, half through each of two stores."""


class AccountTests(StoreFixtures):
    """Life cycle, organisations, secrets, users and push channels."""

    @pytest.mark.anyio
    @covers("open", "close", "ping")
    async def test_open_close_and_ping(self, store: Store) -> None:
        assert await store.ping() is True
        await store.put_organisation(ORG)
        await store.close()
        assert await store.ping() is False
        await store.close()  # closing a closed store does nothing
        await store.open()  # the same store opens again; data is kept
        assert await store.ping() is True
        assert await store.get_organisation(ORG.id) == ORG

    @pytest.mark.anyio
    @covers("open", "get_organisation")
    async def test_data_survives_a_new_store_on_the_same_database(
            self, store: Store, store_backend: StoreBackend, cipher: ReversibleCipher,
            called: set[str]) -> None:
        await seed(store)
        again = await self.reopen(store_backend, cipher, called)
        try:
            assert await again.get_organisation(ORG.id) == ORG
            assert await again.get_user(ALICE.id) == ALICE
        finally:
            await again.close()

    @pytest.mark.anyio
    @covers("call", "call_grouped", "put_user", "get_user")
    async def test_call_runs_a_function_on_the_backends_handle(self, store: Store) -> None:
        handles: list[Any] = []

        def note(handle: Any) -> str:
            handles.append(handle)
            return "ran"

        assert await store.call(note) == "ran"
        assert handles and handles[0] is not None
        with pytest.raises(ZeroDivisionError):
            await store.call(lambda handle: 1 / 0)
        assert await store.ping() is True  # a failing function leaves the store usable
        await seed(store)

        def relocate(handle: Any) -> str:
            handle.execute("UPDATE users SET locale = ? WHERE id = ?", ["fr", ALICE.id])
            return "kept"

        assert await store.call_grouped(relocate) == "kept"
        assert (await store.get_user(ALICE.id)) == replace(ALICE, locale="fr")
        with pytest.raises(ZeroDivisionError):
            await store.call_grouped(lambda handle: 1 / 0)
        assert await store.ping() is True

    @pytest.mark.anyio
    @covers("put_organisation", "get_organisation", "list_organisations")
    async def test_organisations_round_trip_and_update(self, store: Store) -> None:
        assert await store.get_organisation("o1") is None
        await store.put_organisation(OTHER_ORG)
        await store.put_organisation(ORG)
        assert await store.get_organisation("o1") == ORG
        assert await store.list_organisations() == [ORG, OTHER_ORG]  # by id
        renamed = replace(ORG, name="Example Ltd", settings={"keywords": []})
        await store.put_organisation(renamed)
        assert await store.get_organisation("o1") == renamed
        assert len(await store.list_organisations()) == 2

    @pytest.mark.anyio
    @covers("put_org_secret", "get_org_secret")
    async def test_org_secrets_round_trip_per_organisation(self, store: Store) -> None:
        await seed(store)
        assert await store.get_org_secret("o1", "google_service_account") is None
        await store.put_org_secret("o1", "google_service_account", '{"key": 1}')
        await store.put_org_secret("o2", "google_service_account", '{"key": 2}')
        assert await store.get_org_secret("o1", "google_service_account") == '{"key": 1}'
        await store.put_org_secret("o1", "google_service_account", '{"key": 3}')
        assert await store.get_org_secret("o1", "google_service_account") == '{"key": 3}'
        assert await store.get_org_secret("o2", "google_service_account") == '{"key": 2}'
        assert await store.get_org_secret("o1", "other") is None

    @pytest.mark.anyio
    @covers("add_organisation", "get_organisation", "open")
    async def test_add_organisation_inserts_only_a_new_id_also_from_two_stores_at_once(
            self, store: Store, store_backend: StoreBackend, cipher: ReversibleCipher,
            called: set[str]) -> None:
        """Two administrators (through two processes) create the same organisation at
        once: exactly one is told it was made, and the stored one is that one's, not a
        mix or the later write over the earlier."""
        assert await store.add_organisation(ORG) is True
        assert await store.add_organisation(replace(ORG, name="Other name")) is False
        assert await store.get_organisation(ORG.id) == ORG
        other = await self.reopen(store_backend, cipher, called)
        try:
            for n in range(10):
                made = [replace(ORG, id=f"race-{n}", name=f"by {who}", domain=f"{who}.example")
                        for who in ("first", "second", "third", "fourth")]
                added = await asyncio.gather(*(
                    (store if index % 2 else other).add_organisation(org)
                    for index, org in enumerate(made)))
                assert added.count(True) == 1, added
                assert await other.get_organisation(f"race-{n}") == made[added.index(True)]
        finally:
            await other.close()

    @pytest.mark.anyio
    @covers("update_org_secret", "put_org_secret", "get_org_secret")
    async def test_update_org_secret_changes_what_it_reads(self, store: Store) -> None:
        await seed(store)
        seen: list[str | None] = []

        def append(item: str) -> Callable[[str | None], str | None]:
            def change(current: str | None) -> str:
                seen.append(current)
                return json.dumps([*json.loads(current or "[]"), item])
            return change

        assert await store.update_org_secret("o1", "rooms", append("a")) == '["a"]'
        assert seen == [None]  # no secret yet
        assert await store.update_org_secret("o1", "rooms", append("b")) == '["a", "b"]'
        assert seen[-1] == '["a"]'
        assert await store.get_org_secret("o1", "rooms") == '["a", "b"]'
        assert await store.get_org_secret("o2", "rooms") is None  # per organisation
        # None leaves the secret as it is (and a missing one missing): the current value
        assert await store.update_org_secret("o1", "rooms", lambda current: None) == \
            '["a", "b"]'
        assert await store.update_org_secret("o2", "rooms", lambda current: None) is None
        assert await store.get_org_secret("o2", "rooms") is None
        await store.put_org_secret("o2", "rooms", '["z"]')
        assert await store.update_org_secret("o2", "rooms", append("y")) == '["z", "y"]'
        assert await store.get_org_secret("o1", "rooms") == '["a", "b"]'
        with pytest.raises(ZeroDivisionError):  # a failing change writes nothing
            await store.update_org_secret("o1", "rooms", lambda current: str(1 / 0))
        assert await store.get_org_secret("o1", "rooms") == '["a", "b"]'
        assert await store.ping() is True

    @pytest.mark.anyio
    @covers("update_org_secret", "get_org_secret", "open")
    async def test_concurrent_org_secret_updates_from_two_stores_lose_nothing(
            self, store: Store, store_backend: StoreBackend, cipher: ReversibleCipher,
            called: set[str]) -> None:
        """Two stores on one database (two processes), many updates of one secret at
        once, each appending its item to a JSON list: every item is kept."""
        await seed(store)
        other = await self.reopen(store_backend, cipher, called)
        try:
            async def append(on: Store, item: str) -> None:
                await on.update_org_secret("o1", "webex_rooms", lambda current: json.dumps(
                    [*json.loads(current or "[]"), item]))

            items = [f"room-{n}" for n in range(CONCURRENT_UPDATES)]
            await asyncio.gather(*(append(store if n % 2 else other, item)
                                   for n, item in enumerate(items)))
            kept = json.loads(await store.get_org_secret("o1", "webex_rooms") or "[]")
            assert sorted(kept) == sorted(items), \
                f"{len(items) - len(set(kept))} of {len(items)} updates lost"
        finally:
            await other.close()

    @pytest.mark.anyio
    @covers("set_user_settings", "set_user_state", "get_user")
    async def test_set_user_settings_changes_language_and_zone_only(self, store: Store
                                                                  ) -> None:
        """The settings read again later never undo a state change made meanwhile (a
        deactivation must stay one)."""
        await seed(store, ALICE, CAROL)
        await store.set_user_state(ALICE.id, UserState.INACTIVE, "deactivated")
        assert (ALICE.locale, ALICE.timezone) == ("de", "Europe/Berlin")
        assert await store.set_user_settings(ALICE.id, "fr", "Europe/Paris") is True
        assert await store.get_user(ALICE.id) == replace(
            ALICE, state=UserState.INACTIVE, reason="deactivated", locale="fr",
            timezone="Europe/Paris")
        assert await store.set_user_settings(ALICE.id, "fr", "Europe/Paris") is False
        assert await store.set_user_settings(ALICE.id, "fr", None) is True
        assert (await store.get_user(ALICE.id)) == replace(
            ALICE, state=UserState.INACTIVE, reason="deactivated", locale="fr",
            timezone=None)
        assert await store.get_user(CAROL.id) == CAROL
        assert await store.set_user_settings("nobody", "en", None) is False

    @pytest.mark.anyio
    @covers("put_user", "get_user")
    async def test_users_round_trip_and_update(self, store: Store) -> None:
        await seed(store, ALICE, CAROL)
        assert await store.get_user(ALICE.id) == ALICE
        assert await store.get_user(CAROL.id) == CAROL
        assert await store.get_user("nobody") is None
        moved = replace(ALICE, email="alice.smith@example.com", locale="fr", timezone=None)
        await store.put_user(moved)
        assert await store.get_user(ALICE.id) == moved

    @pytest.mark.anyio
    @covers("find_user")
    async def test_find_user_by_email_within_one_organisation(self, store: Store) -> None:
        await seed(store, ALICE, BOB, CAROL)
        assert await store.find_user("o1", "alice@example.com") == ALICE
        assert await store.find_user("o1", "Alice@Example.com") == ALICE  # the index's rule
        assert await store.find_user("o2", "alice@example.com") is None
        assert await store.find_user("o1", "carol@elsewhere.example") is None
        assert await store.find_user("o2", "carol@elsewhere.example") == CAROL

    @pytest.mark.anyio
    @covers("add_users", "get_user", "find_user", "list_users")
    async def test_add_users_inserts_new_addresses_and_resets_known_ones(
            self, store: Store) -> None:
        await seed(store, ALICE, CAROL)
        await store.set_user_state(ALICE.id, UserState.ERROR, "delegation revoked")
        assert await store.add_users([]) == []
        dave = User(id="n2", org_id="o1", email="dave@example.com")
        elsewhere = User(id="n3", org_id="o2", email="alice@example.com")
        given = [User(id="n1", org_id="o1", email="Alice@Example.com"), dave, elsewhere,
                 User(id="n4", org_id="o1", email="dave@example.com", locale="fr")]
        reset = replace(ALICE, state=UserState.PENDING, reason=None)
        assert await store.add_users(given) == [reset, dave, elsewhere, dave]
        assert await store.get_user(ALICE.id) == reset  # id, address, settings kept
        assert await store.get_user("n1") is None and await store.get_user("n4") is None
        assert await store.get_user("n2") == dave
        assert await store.find_user("o2", "alice@example.com") == elsewhere
        # again (an administrator repeating the request): the same users, none added
        await store.set_user_state("n2", UserState.ACTIVE)
        again = [replace(user, id=f"again-{user.id}") for user in given]
        assert await store.add_users(again) == [reset, dave, elsewhere, dave]
        assert [u.id for u in await store.list_users()] == ["n2", "n3", "u1", "u3"]
        failed = User(id="n5", org_id="o2", email="erin@elsewhere.example",
                      state=UserState.ERROR, reason="refused")
        assert await store.add_users([failed]) == [failed]  # state and reason as given
        assert await store.get_user("n5") == failed

    @pytest.mark.anyio
    @covers("list_users")
    async def test_list_users_filters_by_state_and_organisation(self, store: Store) -> None:
        await seed(store, CAROL, BOB, ALICE)
        assert [u.id for u in await store.list_users()] == ["u1", "u2", "u3"]
        assert await store.list_users(state=UserState.ACTIVE) == [ALICE, BOB]
        assert await store.list_users(org_id="o2") == [CAROL]
        assert await store.list_users(state=UserState.PENDING, org_id="o2") == [CAROL]
        assert await store.list_users(state=UserState.ERROR) == []

    @pytest.mark.anyio
    @covers("list_user_ids")
    async def test_list_user_ids_are_the_listed_users_ids_in_order(self, store: Store) -> None:
        await seed(store, CAROL, BOB, ALICE)
        assert await store.list_user_ids() == ["u1", "u2", "u3"]
        assert await store.list_user_ids(state=UserState.ACTIVE) == ["u1", "u2"]
        assert await store.list_user_ids(state=UserState.PENDING) == ["u3"]
        assert await store.list_user_ids(state=UserState.ERROR) == []
        await store.set_user_state("u1", UserState.INACTIVE)
        assert await store.list_user_ids(state=UserState.ACTIVE) == ["u2"]

    @pytest.mark.anyio
    @covers("set_user_state")
    async def test_set_user_state_returns_the_changed_user(self, store: Store) -> None:
        await seed(store)
        failed = await store.set_user_state(ALICE.id, UserState.ERROR, "delegation revoked")
        assert failed == replace(ALICE, state=UserState.ERROR, reason="delegation revoked")
        assert await store.get_user(ALICE.id) == failed
        again = await store.set_user_state(ALICE.id, UserState.ACTIVE)
        assert (again.state, again.reason) == (UserState.ACTIVE, None)
        with pytest.raises(NotFoundError):
            await store.set_user_state("nobody", UserState.ACTIVE)

    @pytest.mark.anyio
    @covers("put_channel", "get_channel", "list_channels", "delete_channel")
    async def test_channels_are_kept_with_their_token_hashed(self, store: Store) -> None:
        soon = Channel(id="ch1", user_id="u1", resource_id="r1", token="s3cret-token-1",
                       expires_at=NOW + timedelta(days=1))
        later = Channel(id="ch2", user_id="u2", resource_id="r2", token="s3cret-token-2",
                        expires_at=NOW + timedelta(days=7), provider="other")
        await store.put_channel(later)
        await store.put_channel(soon)
        stored = await store.get_channel("ch1")
        assert stored is not None and "s3cret" not in stored.token
        assert replace(stored, token=soon.token) == soon
        assert channel_token_matches(stored, "s3cret-token-1")
        assert not channel_token_matches(stored, "s3cret-token-2")
        assert [c.id for c in await store.list_channels()] == ["ch1", "ch2"]  # by expiry
        assert [c.id for c in await store.list_channels(user_id="u2")] == ["ch2"]
        assert [c.id for c in await store.list_channels(
            expiring_before=NOW + timedelta(days=2))] == ["ch1"]
        assert await store.list_channels(user_id="u2",
                                         expiring_before=NOW + timedelta(days=2)) == []
        renewed = replace(soon, expires_at=NOW + timedelta(days=9))
        await store.put_channel(renewed)  # the same id again replaces it
        assert [c.id for c in await store.list_channels()] == ["ch2", "ch1"]
        await store.delete_channel("ch1")
        await store.delete_channel("ch1")  # deleting twice is harmless
        assert await store.get_channel("ch1") is None
        assert [c.id for c in await store.list_channels()] == ["ch2"]
