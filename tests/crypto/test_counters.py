"""Use counters: persisted, reserved ahead of use, never under-counted after a crash."""

from __future__ import annotations

import pytest

from hybrid_calendar.crypto.testing import SqliteRunner
from hybrid_calendar.errors import KeyManagementError

from .conftest import MakeCipher

WHERE = {"table": "meetings", "row_id": "r", "column": "title"}


def stored(runner: SqliteRunner, key_id: str) -> dict[str, int]:
    row = runner.db.table("crypto_keys").get(key_id)
    return {"uses": row["uses"], "uses_reserved": row["uses_reserved"]}


@pytest.mark.anyio
async def test_counter_persists_across_clean_restart(make_cipher: MakeCipher,
                                                     runner: SqliteRunner) -> None:
    cipher = make_cipher()
    sealer = await cipher.sealer("o", "u")
    for _ in range(7):
        sealer.seal("x", **WHERE)
    await cipher.aclose()
    assert stored(runner, sealer.key_id) == {"uses": 7, "uses_reserved": 7}
    with pytest.raises(KeyManagementError):  # a sealer kept past close no longer seals
        sealer.seal("x", **WHERE)

    again = make_cipher()
    sealer2 = await again.sealer("o", "u")
    assert sealer2.key_id == sealer.key_id
    sealer2.seal("x", **WHERE)
    await again.aclose()
    assert stored(runner, sealer.key_id)["uses"] == 8


@pytest.mark.anyio
async def test_reservation_is_durable_before_sealing(make_cipher: MakeCipher,
                                                     runner: SqliteRunner) -> None:
    cipher = make_cipher(reserve_block=10)
    sealer = await cipher.sealer("o", "u")
    assert stored(runner, sealer.key_id)["uses_reserved"] == 10
    for count in range(1, 31):
        sealer.seal("x", **WHERE)
        if count % 4 == 0:
            await cipher.sealer("o", "u")  # the store asks for a sealer per transaction
        # whatever happens next (a crash), the database never claims fewer uses
        assert stored(runner, sealer.key_id)["uses_reserved"] >= count
    await cipher.flush()
    assert stored(runner, sealer.key_id)["uses_reserved"] >= 30


@pytest.mark.anyio
async def test_crash_never_under_counts(make_cipher: MakeCipher, runner: SqliteRunner) -> None:
    crashed = make_cipher(reserve_block=100)
    sealer = await crashed.sealer("o", "u")
    for _ in range(5):
        sealer.seal("x", **WHERE)
    # no aclose(): the process died. The next process assumes the whole reservation was used.
    restarted = make_cipher(reserve_block=100)
    await restarted.sealer("o", "u")
    await restarted.aclose()
    assert stored(runner, sealer.key_id)["uses"] >= 100 >= 5


@pytest.mark.anyio
async def test_overdraft_is_flushed(make_cipher: MakeCipher, runner: SqliteRunner) -> None:
    cipher = make_cipher(reserve_block=4)
    sealer = await cipher.sealer("o", "u")
    for _ in range(9):  # more than the reservation within one "transaction"
        sealer.seal("x", **WHERE)
    await cipher.flush()
    assert stored(runner, sealer.key_id)["uses_reserved"] >= 9
    assert stored(runner, sealer.key_id)["uses"] == 9
