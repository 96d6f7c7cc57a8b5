"""A revoked or unreachable KMS stops encryption; keys are bound to their owners."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from hybrid_calendar.crypto import GatewayKms
from hybrid_calendar.crypto.formats import wrap_context
from hybrid_calendar.crypto.testing import SqliteRunner
from hybrid_calendar.errors import DecryptionError, KeyManagementError
from hybrid_calendar.gateway import Gateway
from hybrid_calendar.models import WrappedKey

from .conftest import MakeCipher

WHERE = {"table": "meetings", "row_id": "r", "column": "title"}


def key_file(tmp_path: Path) -> Path:
    return tmp_path / "var" / "kms-local.json"


@pytest.mark.anyio
async def test_revoked_kms_refuses_before_first_key(make_cipher: MakeCipher, tmp_path: Path,
                                                    gateway: Gateway,
                                                    runner: SqliteRunner) -> None:
    await gateway.hooks.startup(gateway)
    os.chmod(key_file(tmp_path), 0o640)
    cipher = make_cipher()
    with pytest.raises(KeyManagementError, match=r"not ready.*chmod 600"):
        await cipher.sealer("o", "u")
    with pytest.raises(KeyManagementError):
        await cipher.blind_index("o", "a@example.com")
    assert runner.db["crypto_keys"].count == 0


@pytest.mark.anyio
async def test_kms_lost_while_running_drops_cached_keys(make_cipher: MakeCipher,
                                                        tmp_path: Path) -> None:
    cipher = make_cipher()
    await cipher.sealer("o", "u")
    saved = key_file(tmp_path).read_bytes()
    key_file(tmp_path).unlink()
    status = await cipher.status()  # what /readyz and the engine's pre-write check call
    assert not status.healthy and "missing" in (status.reason or "")
    with pytest.raises(KeyManagementError, match="not ready"):
        await cipher.sealer("o", "u")
    fd = os.open(key_file(tmp_path), os.O_WRONLY | os.O_CREAT, 0o600)
    os.write(fd, saved)
    os.close(fd)
    sealer = await cipher.sealer("o", "u")  # recovers as soon as the KMS is back
    assert sealer.open(sealer.seal("x", **WHERE), **WHERE) == "x"


@pytest.mark.anyio
async def test_wrapped_key_swapped_between_users_does_not_unwrap(
        make_cipher: MakeCipher, runner: SqliteRunner) -> None:
    cipher = make_cipher()
    await cipher.sealer("o", "alice")
    await cipher.sealer("o", "mallory")
    await cipher.aclose()
    rows = {r["user_id"]: r for r in runner.db["crypto_keys"].rows_where("purpose = 'data'")}
    runner.db.table("crypto_keys").update(rows["mallory"]["key_id"],
                                          {"blob": rows["alice"]["blob"]})
    with pytest.raises(DecryptionError):
        await make_cipher().sealer("o", "mallory")


@pytest.mark.anyio
async def test_database_holds_no_clear_data_key(make_cipher: MakeCipher, gateway: Gateway,
                                                runner: SqliteRunner, db_path: Path) -> None:
    cipher = make_cipher()
    await cipher.sealer("o", "u")
    await cipher.sealer("o", None)
    await cipher.blind_index("o", "a@example.com")
    await cipher.aclose()
    kms = GatewayKms(gateway)
    raw_db = db_path.read_bytes() + (db_path.with_name(db_path.name + "-wal").read_bytes()
                                     if db_path.with_name(db_path.name + "-wal").exists()
                                     else b"")
    rows = list(runner.db["crypto_keys"].rows)
    assert len(rows) == 3  # user data key, organisation data key, index key
    for row in rows:
        plain = await kms.unwrap(WrappedKey(row["kms"], row["key_ref"], row["blob"]),
                                 wrap_context(row["org_id"], row["user_id"], row["purpose"],
                                              row["key_id"], row["generation"]))
        assert plain not in raw_db and plain[:12] not in raw_db


@pytest.mark.anyio
async def test_forget_user_crypto_shreds(make_cipher: MakeCipher, runner: SqliteRunner) -> None:
    cipher = make_cipher(max_uses=2)
    sealer = await cipher.sealer("o", "leaver")
    tokens = [(await cipher.sealer("o", "leaver")).seal(f"t{i}", **WHERE) for i in range(5)]
    stay = (await cipher.sealer("o", "stayer")).seal("kept", **WHERE)
    await cipher.forget_user("o", "leaver")
    assert runner.db["crypto_keys"].count_where("user_id = 'leaver'") == 0
    fresh = await cipher.sealer("o", "leaver")
    assert fresh.key_id != sealer.key_id
    for token in tokens:
        with pytest.raises(DecryptionError):
            fresh.open(token, **WHERE)
    assert (await cipher.sealer("o", "stayer")).open(stay, **WHERE) == "kept"
