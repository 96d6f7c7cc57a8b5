"""Store suite, part 6: the field cipher's wrapped keys, kept in the store's database."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from hybrid_calendar.crypto.repository import PURPOSE_DATA, PURPOSE_INDEX, KeyRecord
from hybrid_calendar.errors import KeyManagementError
from hybrid_calendar.models import WrappedKey
from hybrid_calendar.store.base import Store
from hybrid_calendar.store.testing.support import NOW, StoreFixtures, covers


def _key(key_id: str, generation: int, *, user: str = "u1", purpose: str = PURPOSE_DATA,
         key_ref: str = "kek-1") -> KeyRecord:
    return KeyRecord(key_id=key_id, org_id="o1", user_id=user, purpose=purpose,
                     generation=generation,
                     wrapped=WrappedKey(kms="local", key_ref=key_ref,
                                        blob=bytes([generation]) * 40 + b"\x00\xff"),
                     created_at=NOW + timedelta(days=generation))


class KeyStorageTests(StoreFixtures):
    """``Store.key_storage()``: generations, counters, rewraps and deletion."""

    @pytest.mark.anyio
    @covers("key_storage")
    async def test_key_generations_round_trip_and_retire_the_previous_one(
            self, store: Store) -> None:
        keys = store.key_storage()
        await keys.migrate()
        await keys.add_generation(_key("k1", 1))
        await keys.add_generation(_key("k2", 2))
        await keys.add_generation(_key("i1", 1, user="", purpose=PURPOSE_INDEX))
        first, second = await keys.generations("o1", "u1", PURPOSE_DATA)
        assert (first.key_id, second.key_id) == ("k1", "k2")
        assert first.retired_at == NOW + timedelta(days=2) and second.retired_at is None
        assert second.wrapped == _key("k2", 2).wrapped  # bytes kept exactly
        assert [r.key_id for r in await keys.current()] == ["k2"]
        assert [r.key_id for r in await keys.current(PURPOSE_INDEX)] == ["i1"]
        with pytest.raises(KeyManagementError, match="another process"):
            await keys.add_generation(_key("k2-again", 2))  # a lost race

    @pytest.mark.anyio
    @covers("key_storage")
    async def test_a_first_generation_goes_in_only_for_an_owner_without_keys(
            self, store: Store) -> None:
        keys = store.key_storage()
        assert await keys.add_first_generation(_key("k1", 1)) is True
        assert await keys.add_first_generation(_key("k1-again", 1)) is False  # gen 1 exists
        await keys.add_generation(_key("k2", 2))
        assert await keys.delete_retired(NOW + timedelta(days=3)) == 1  # k1 gone, k2 left
        assert await keys.add_first_generation(_key("k1-late", 1)) is False  # any key counts
        assert [r.key_id for r in await keys.generations("o1", "u1", PURPOSE_DATA)] == ["k2"]
        assert await keys.add_first_generation(_key("i1", 1, purpose=PURPOSE_INDEX)) is True
        assert await keys.add_first_generation(_key("k3", 1, user="u2")) is True
        [record] = await keys.generations("o1", "u2", PURPOSE_DATA)
        assert record == _key("k3", 1, user="u2")  # stored as given, current
        assert sorted(r.key_id for r in await keys.current()) == ["k2", "k3"]

    @pytest.mark.anyio
    @covers("key_storage")
    async def test_counters_only_grow_unless_exact(self, store: Store) -> None:
        keys = store.key_storage()
        await keys.add_generation(_key("k1", 1))
        await keys.save_counters([("k1", 10, 100)])
        await keys.save_counters([("k1", 5, 50)])  # a late, smaller write
        [record] = await keys.generations("o1", "u1", PURPOSE_DATA)
        assert (record.uses, record.uses_reserved) == (10, 100)
        await keys.save_counters([("k1", 12, 12)], exact=True)
        [record] = await keys.generations("o1", "u1", PURPOSE_DATA)
        assert (record.uses, record.uses_reserved) == (12, 12)

    @pytest.mark.anyio
    @covers("key_storage")
    async def test_rewraps_and_deletion(self, store: Store) -> None:
        keys = store.key_storage()
        for index, user in enumerate(("u1", "u2", "u3"), start=1):
            await keys.add_generation(_key(f"k{index}", 1, user=user))
        stale = await keys.stale("kek-2", "", 2)
        assert [r.key_id for r in stale] == ["k1", "k2"]
        new = WrappedKey(kms="local", key_ref="kek-2", blob=b"rewrapped")
        moved = replace(stale[1], wrapped=WrappedKey(kms="local", key_ref="kek-9", blob=b"x"))
        assert await keys.replace_wraps([(stale[0], new), (moved, new)]) == 1  # k2 changed
        assert await keys.count_by_key_ref() == {"kek-1": 2, "kek-2": 1}
        assert [r.key_id for r in await keys.stale("kek-2", "k1", 10)] == ["k2", "k3"]
        await keys.add_generation(_key("k1b", 2))  # retires k1 at NOW + 2 days
        assert await keys.delete_retired(NOW + timedelta(days=1)) == 0
        assert await keys.delete_retired(NOW + timedelta(days=3)) == 1
        assert await keys.delete_owner("o1", "u2") == 1
        assert sorted((await keys.count_by_key_ref()).items()) == [("kek-1", 2)]
