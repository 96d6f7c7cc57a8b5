"""Sealing and opening fields: binding to owner, table, row and column."""

from __future__ import annotations

import re

import pytest

from hybrid_calendar.errors import DecryptionError

from .conftest import MakeCipher

WHERE = {"table": "meetings", "row_id": "evt-1", "column": "title"}


@pytest.mark.anyio
async def test_roundtrip_and_token_format(make_cipher: MakeCipher) -> None:
    cipher = make_cipher()
    sealer = await cipher.sealer("org-1", "user-1")
    token = sealer.seal("Quarterly review — Zürich 🎉", **WHERE)
    assert re.fullmatch(r"v1\.[A-Za-z0-9_-]{16}\.1\.[A-Za-z0-9_-]+", token)
    assert token.split(".")[1] == sealer.key_id and sealer.generation == 1
    assert "Quarterly" not in token
    assert sealer.open(token, **WHERE) == "Quarterly review — Zürich 🎉"
    assert sealer.seal("", **WHERE) != sealer.seal("", **WHERE)  # random nonces
    assert sealer.open(sealer.seal("", **WHERE), **WHERE) == ""
    await cipher.aclose()


@pytest.mark.anyio
@pytest.mark.parametrize("moved", [{"table": "users"}, {"row_id": "evt-2"},
                                   {"column": "location"}])
async def test_token_moved_to_another_field_fails(make_cipher: MakeCipher,
                                                  moved: dict[str, str]) -> None:
    sealer = await make_cipher().sealer("org-1", "user-1")
    token = sealer.seal("Secret agenda", **WHERE)
    with pytest.raises(DecryptionError, match=r"moved|tampered") as info:
        sealer.open(token, **(WHERE | moved))
    assert "Secret agenda" not in str(info.value)


@pytest.mark.anyio
async def test_token_moved_to_another_user_or_org_fails(make_cipher: MakeCipher) -> None:
    cipher = make_cipher()
    token = (await cipher.sealer("org-1", "user-1")).seal("Secret", **WHERE)
    for org, user in [("org-1", "user-2"), ("org-2", "user-1"), ("org-1", None)]:
        with pytest.raises(DecryptionError):
            (await cipher.sealer(org, user)).open(token, **WHERE)


@pytest.mark.anyio
async def test_tampered_token_fails(make_cipher: MakeCipher) -> None:
    sealer = await make_cipher().sealer("org-1", "user-1")
    token = sealer.seal("Secret", **WHERE)
    head, body = token.rsplit(".", 1)
    flipped = body[:-2] + ("A" if body[-2] != "A" else "B") + body[-1]
    with pytest.raises(DecryptionError):
        sealer.open(f"{head}.{flipped}", **WHERE)
    kid, gen = token.split(".")[1:3]
    with pytest.raises(DecryptionError):  # generation relabelled
        sealer.open(token.replace(f".{kid}.{gen}.", f".{kid}.{int(gen) + 1}."), **WHERE)


@pytest.mark.anyio
async def test_org_key_is_separate_from_users(make_cipher: MakeCipher) -> None:
    cipher = make_cipher()
    org_sealer = await cipher.sealer("org-1", None)
    user_sealer = await cipher.sealer("org-1", "user-1")
    assert org_sealer.key_id != user_sealer.key_id
    token = org_sealer.seal('{"private_key": "..."}', table="org_secrets", row_id="org-1",
                            column="service_account")
    assert org_sealer.open(token, table="org_secrets", row_id="org-1",
                           column="service_account") == '{"private_key": "..."}'


@pytest.mark.anyio
async def test_sealers_are_cached(make_cipher: MakeCipher) -> None:
    cipher = make_cipher()
    assert await cipher.sealer("o", "u") is await cipher.sealer("o", "u")
