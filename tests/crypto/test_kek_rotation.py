"""Key-encryption-key rotation: rewraps every stored key while sealing goes on."""

from __future__ import annotations

import anyio
import anyio.lowlevel
import pytest

from hybrid_calendar.crypto import rotate
from hybrid_calendar.crypto.repository import KeyRepository
from hybrid_calendar.crypto.testing import SqliteRunner
from hybrid_calendar.gateway import Gateway

from .conftest import MakeCipher


@pytest.mark.anyio
async def test_rotation_during_concurrent_sealing_loses_nothing(
        make_cipher: MakeCipher, runner: SqliteRunner) -> None:
    cipher = make_cipher(max_uses=40, rotation_batch=3)
    written: list[tuple[str, str, str, str]] = []  # org, user, row, token
    during_rotation = [0]
    rotating = [False]

    async def writer(org: str, user: str) -> None:
        for i in range(60):
            sealer = await cipher.sealer(org, user)
            row = f"{user}-{i}"
            written.append((org, user, row, sealer.seal(f"title {org}/{row}", table="meetings",
                                                         row_id=row, column="title")))
            during_rotation[0] += rotating[0]
            await anyio.lowlevel.checkpoint()

    for _ in range(3):  # pre-existing keys under the first KEK
        for user in ("a", "b"):
            await cipher.sealer("o1", user)
    reports = []
    async with anyio.create_task_group() as tg:
        for org in ("o1", "o2"):
            for user in ("a", "b", "c", "d"):
                tg.start_soon(writer, org, user)

        async def rotator() -> None:
            await anyio.lowlevel.checkpoint()
            rotating[0] = True
            reports.append(await cipher.rotate_master_key())
            await anyio.lowlevel.checkpoint()
            reports.append(await cipher.rotate_master_key())
            rotating[0] = False
        tg.start_soon(rotator)

    assert len(written) == 8 * 60
    assert during_rotation[0] > 50  # sealing really went on while keys were rewrapped
    assert [r.key_ref for r in reports] == ["kek-v2", "kek-v3"]
    assert all(r.failed == 0 for r in reports)
    assert reports[0].rewrapped > 0
    await cipher.aclose()
    refs = {row["key_ref"] for row in runner.db["crypto_keys"].rows}
    assert refs == {"kek-v3"}
    assert reports[-1].remaining == 0

    fresh = make_cipher(max_uses=40)  # nothing cached: every key unwrapped with kek-v3
    for org, user, row, token in written:
        sealer = await fresh.sealer(org, user)
        assert sealer.open(token, table="meetings", row_id=row,
                           column="title") == f"title {org}/{row}"
    generations = {r["generation"] for r in runner.db["crypto_keys"].rows_where(
        "purpose = 'data'")}
    assert max(generations) >= 2  # max_uses rotations happened during the run too


@pytest.mark.anyio
async def test_rotate_helper_for_commands(gateway: Gateway, runner: SqliteRunner,
                                          make_cipher: MakeCipher) -> None:
    cipher = make_cipher()
    token = (await cipher.sealer("o", "u")).seal("x", table="t", row_id="r", column="c")
    await cipher.aclose()
    report = await rotate(gateway, KeyRepository(runner))
    assert report.key_ref == "kek-v2" and report.rewrapped == 2 and report.remaining == 0
    again = await make_cipher().sealer("o", "u")
    assert again.open(token, table="t", row_id="r", column="c") == "x"
