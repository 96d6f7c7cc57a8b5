"""Keyed blind indexes for look-ups by email."""

from __future__ import annotations

import hashlib

import pytest

from hybrid_calendar.crypto.formats import b64e

from .conftest import MakeCipher


@pytest.mark.anyio
async def test_deterministic_per_org_and_normalised(make_cipher: MakeCipher) -> None:
    cipher = make_cipher()
    first = await cipher.blind_index("org-1", "Alice@Example.com")
    assert first == await cipher.blind_index("org-1", "  alice@example.COM ")
    assert first != await cipher.blind_index("org-1", "bob@example.com")
    assert len(first) == 43  # 256 bits, base64url
    await cipher.aclose()
    assert await make_cipher().blind_index("org-1", "alice@example.com") == first


@pytest.mark.anyio
async def test_differs_across_orgs_and_is_keyed(make_cipher: MakeCipher) -> None:
    cipher = make_cipher()
    one = await cipher.blind_index("org-1", "alice@example.com")
    two = await cipher.blind_index("org-2", "alice@example.com")
    assert one != two
    assert one != b64e(hashlib.sha256(b"alice@example.com").digest())  # not a plain hash
    assert "alice" not in one


@pytest.mark.anyio
async def test_sealer_offers_the_same_index_synchronously(make_cipher: MakeCipher) -> None:
    cipher = make_cipher()
    sealer = await cipher.sealer("org-1", "user-1")
    assert sealer.blind_index("ALICE@example.com") == await cipher.blind_index(
        "org-1", "alice@example.com")
