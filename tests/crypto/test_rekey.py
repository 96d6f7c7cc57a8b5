"""Data-key rotation by use count and by age; old generations stay readable."""

from __future__ import annotations

from datetime import timedelta

import pytest

from hybrid_calendar.clock import ManualClock
from hybrid_calendar.crypto.testing import SqliteRunner
from hybrid_calendar.errors import KeyManagementError

from .conftest import MakeCipher

WHERE = {"table": "meetings", "row_id": "r", "column": "title"}


@pytest.mark.anyio
async def test_new_generation_at_max_uses(make_cipher: MakeCipher,
                                          runner: SqliteRunner) -> None:
    cipher = make_cipher(max_uses=3)
    first = await cipher.sealer("o", "u")
    tokens = [first.seal(f"t{i}", **WHERE) for i in range(3)]
    second = await cipher.sealer("o", "u")
    assert second.generation == 2 and second.key_id != first.key_id
    tokens.append(second.seal("t3", **WHERE))
    assert [second.open(t, **WHERE) for t in tokens] == ["t0", "t1", "t2", "t3"]
    rows = {r["generation"]: r for r in runner.db["crypto_keys"].rows_where("purpose = 'data'")}
    assert rows[1]["retired_at"] is not None and rows[2]["retired_at"] is None
    await cipher.aclose()
    reopened = await make_cipher(max_uses=3).sealer("o", "u")
    assert reopened.generation == 2
    assert [reopened.open(t, **WHERE) for t in tokens] == ["t0", "t1", "t2", "t3"]


@pytest.mark.anyio
async def test_hard_limit_stops_a_sealer_held_too_long(make_cipher: MakeCipher) -> None:
    sealer = await make_cipher(max_uses=3).sealer("o", "u")
    for _ in range(6):  # hard limit = 2 * max_uses, far below 2**32 in production
        sealer.seal("x", **WHERE)
    with pytest.raises(KeyManagementError, match="use limit"):
        sealer.seal("x", **WHERE)


@pytest.mark.anyio
async def test_rekey_due_by_age(make_cipher: MakeCipher, clock: ManualClock) -> None:
    cipher = make_cipher(max_age=timedelta(days=30))
    old = await cipher.sealer("o", "u1")
    await cipher.sealer("o", "u2")
    token = old.seal("kept", **WHERE)
    clock.advance(timedelta(days=29))
    assert await cipher.rekey_due() == 0
    clock.advance(timedelta(days=1, seconds=1))
    assert await cipher.rekey_due() == 2
    assert await cipher.rekey_due() == 0
    new = await cipher.sealer("o", "u1")
    assert new.generation == 2
    assert new.open(token, **WHERE) == "kept"


@pytest.mark.anyio
async def test_rekey_due_by_uses_of_keys_sealed_in_another_process(
        make_cipher: MakeCipher) -> None:
    writer = make_cipher(max_uses=5)
    sealer = await writer.sealer("o", "u")
    for _ in range(5):
        sealer.seal("x", **WHERE)
    await writer.aclose()
    sweeper = make_cipher(max_uses=5)
    assert await sweeper.rekey_due() == 1
    assert (await sweeper.sealer("o", "u")).generation == 2


@pytest.mark.anyio
async def test_cached_sealer_rotates_when_age_reached(make_cipher: MakeCipher,
                                                      clock: ManualClock) -> None:
    cipher = make_cipher(max_age=timedelta(days=30), cache_ttl=timedelta(minutes=15))
    first = await cipher.sealer("o", "u")
    clock.advance(timedelta(days=31))
    assert (await cipher.sealer("o", "u")).generation == first.generation + 1


def test_limits_are_validated(make_cipher: MakeCipher) -> None:
    with pytest.raises(ValueError):
        make_cipher(max_uses=2**32)
    with pytest.raises(ValueError):
        make_cipher(cache_ttl=timedelta(minutes=16))


@pytest.mark.anyio
async def test_purge_retired_deletes_only_old_retired_generations(
        make_cipher: MakeCipher, clock: ManualClock, runner: SqliteRunner) -> None:
    cipher = make_cipher(max_age=timedelta(days=30))
    await cipher.sealer("o", "u")
    clock.advance(timedelta(days=31))
    assert await cipher.rekey_due() == 1  # generation 1 retired now
    clock.advance(timedelta(days=10))
    assert await cipher.purge_retired(clock.now() - timedelta(days=20)) == 0
    assert await cipher.purge_retired(clock.now()) == 1
    left = {(r["purpose"], r["generation"]) for r in runner.db["crypto_keys"].rows}
    assert left == {("data", 2), ("index", 1)}
