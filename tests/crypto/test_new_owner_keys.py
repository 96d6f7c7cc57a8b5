"""A user the admin API just created owns no data key: the cipher creates its first one
without reading the stored keys (``FieldCipher.note_new_users``), and still never leaves
an owner with two current keys, whichever process gets there first."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator

import pytest

from hybrid_calendar.clock import ManualClock
from hybrid_calendar.crypto import FieldCipher, GatewayKms, KeyRepository
from hybrid_calendar.crypto.repository import PURPOSE_DATA, KeyRecord
from hybrid_calendar.crypto.testing import SqliteRunner
from hybrid_calendar.gateway import Gateway
from hybrid_calendar.store.postgres.store import PostgresStore
from tests.postgres_server import opened_stores

from .conftest import MakeCipher

pytestmark = pytest.mark.anyio
WHERE = {"table": "meetings", "row_id": "r", "column": "title"}


class CountingKeyRepository(KeyRepository):
    """SQLite's key storage, counting the reads of an owner's generations."""

    reads = 0

    async def generations(self, org_id: str, user_id: str, purpose: str) -> list[KeyRecord]:
        """See :meth:`KeyRepository.generations` (counted)."""
        CountingKeyRepository.reads += 1
        return await super().generations(org_id, user_id, purpose)


async def test_a_noted_new_user_gets_a_key_without_a_read(
        gateway: Gateway, runner: SqliteRunner, clock: ManualClock) -> None:
    keys = CountingKeyRepository(runner)
    cipher = FieldCipher(GatewayKms(gateway), keys, clock)
    await cipher.sealer("o", None)  # the organisation's key (read, then created)
    CountingKeyRepository.reads = 0
    cipher.note_new_users("o", ["u1"])
    sealer = await cipher.sealer("o", "u1")
    assert CountingKeyRepository.reads == 0
    [record] = await keys.generations("o", "u1", PURPOSE_DATA)
    assert (record.generation, record.retired_at, sealer.generation) == (1, None, 1)
    token = sealer.seal("kept", **WHERE)
    restarted = FieldCipher(GatewayKms(gateway), KeyRepository(runner), clock)
    assert (await restarted.sealer("o", "u1")).open(token, **WHERE) == "kept"
    CountingKeyRepository.reads = 0
    await cipher.sealer("o", "u2")  # not noted: read first, as always
    assert CountingKeyRepository.reads == 1


async def test_a_noted_user_whose_key_exists_uses_that_key(make_cipher: MakeCipher,
                                                           runner: SqliteRunner) -> None:
    first = make_cipher()
    token = (await first.sealer("o", "u1")).seal("kept", **WHERE)  # another process's key
    late = make_cipher()
    late.note_new_users("o", ["u1"])
    sealer = await late.sealer("o", "u1")
    assert sealer.open(token, **WHERE) == "kept"
    assert sealer.generation == 1
    assert len(await KeyRepository(runner).generations("o", "u1", PURPOSE_DATA)) == 1


@pytest.fixture
async def processes(postgres_url: str) -> AsyncIterator[list[PostgresStore]]:
    async with opened_stores(postgres_url, 4, pool_size=3) as stores:
        yield stores


async def test_processes_racing_for_new_users_keys_create_one_each(
        processes: list[PostgresStore], gateway: Gateway, clock: ManualClock) -> None:
    ciphers = [FieldCipher(GatewayKms(gateway), store.key_storage(), clock)
               for store in processes]
    users = [f"u{n}" for n in range(12)]
    for cipher in ciphers:
        cipher.note_new_users("o", users)
    sealers = await asyncio.gather(*(cipher.sealer("o", user)
                                     for user in users for cipher in ciphers))
    keys = processes[0].key_storage()
    for user in users:
        [record] = await keys.generations("o", user, PURPOSE_DATA)  # one key, current
        assert record.retired_at is None
    for index, sealer in enumerate(sealers):  # every process seals with that one key
        token = sealer.seal("kept", **WHERE)
        for other in sealers[index - index % len(ciphers):][:len(ciphers)]:
            assert other.open(token, **WHERE) == "kept"


async def test_processes_racing_for_a_new_organisations_first_keys_all_get_them(
        processes: list[PostgresStore], gateway: Gateway, clock: ManualClock) -> None:
    """Nothing noted (an organisation's first secret written by every process as it
    starts): each process reads no key and makes one; the losers of the insert failed
    with "another process created this key at the same time" instead of using it."""
    for round_no in range(4):
        ciphers = [FieldCipher(GatewayKms(gateway), store.key_storage(), clock)
                   for store in processes]
        org = f"org{round_no}"
        sealers = await asyncio.gather(*(cipher.sealer(org, None) for cipher in ciphers))
        tokens = [sealer.seal("kept", **WHERE) for sealer in sealers]
        for sealer in sealers:
            assert [sealer.open(token, **WHERE) for token in tokens] == ["kept"] * 4
        [record] = await processes[0].key_storage().generations(org, "", PURPOSE_DATA)
        assert record.retired_at is None


async def test_processes_rekeying_at_once_leave_one_current_key(
        processes: list[PostgresStore], gateway: Gateway, clock: ManualClock) -> None:
    """The daily rekey runs in every process: those that lose the insert of the next
    generation skip the key (another process replaced it) instead of failing the run."""
    from datetime import timedelta

    ciphers = [FieldCipher(GatewayKms(gateway), store.key_storage(), clock,
                           max_age=timedelta(days=1)) for store in processes]
    old = await ciphers[0].sealer("o", "u1")
    token = old.seal("kept", **WHERE)
    for cipher in ciphers[1:]:
        await cipher.sealer("o", "u1")
    clock.advance(timedelta(days=2))
    rotated = await asyncio.gather(*(cipher.rekey_due() for cipher in ciphers))
    assert sum(rotated) >= 1
    records = await processes[0].key_storage().generations("o", "u1", PURPOSE_DATA)
    assert [r.retired_at is None for r in records] == [False, True]
    for cipher in ciphers:
        sealer = await cipher.sealer("o", "u1")
        assert sealer.generation == 2 and sealer.open(token, **WHERE) == "kept"


def test_the_note_is_bounded(make_cipher: MakeCipher) -> None:
    cipher = make_cipher(cache_size=3)
    cipher.note_new_users("o", [f"u{n}" for n in range(10)])
    assert list(cipher._new_owners) == [("o", "u7"), ("o", "u8"), ("o", "u9")]


async def test_a_users_first_data_key_is_logged_at_debug_a_rotation_and_index_key_at_info(
        make_cipher: MakeCipher, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="hybrid_calendar.crypto.cipher")
    cipher = make_cipher(max_uses=2)
    for _ in range(3):  # the third seal takes a second generation
        (await cipher.sealer("o", "u1")).seal("x", **WHERE)
    created = [(r.levelno, r.getMessage().split(" (")[0]) for r in caplog.records
               if r.getMessage().startswith("created")]
    assert sorted(created) == [(logging.DEBUG, "created data key generation 1"),
                               (logging.INFO, "created data key generation 2"),
                               (logging.INFO, "created index key generation 1")]
