"""A sealer's keyed digest: what tells the store whether a sealed value changed.

Equal for the same value of the same field of the same owner, also across data key
generations (a rekey does not make every meeting look changed); different for another
value, field, row or owner; never a plain hash of the value."""

from __future__ import annotations

import hashlib
import hmac
from datetime import timedelta

import pytest
from cryptography.hazmat.primitives.hashes import SHA256
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from hybrid_calendar.clock import ManualClock
from hybrid_calendar.crypto.formats import b64e, encode_parts
from hybrid_calendar.crypto.sealer import KeyMaterial, Sealer, UseCounter

from .conftest import MakeCipher

WHERE = {"table": "meetings", "row_id": "user-1/evt-1", "column": "sealed"}
TEXT = '{"title":"Quarterly review"}'


@pytest.mark.anyio
async def test_the_digest_is_deterministic_and_bound_to_field_and_owner(
        make_cipher: MakeCipher) -> None:
    cipher = make_cipher()
    sealer = await cipher.sealer("org-1", "user-1")
    digest = sealer.digest(TEXT, **WHERE)
    assert sealer.digest(TEXT, **WHERE) == digest
    assert sealer.seal(TEXT, **WHERE) != sealer.seal(TEXT, **WHERE)  # unlike a seal
    others = {sealer.digest(TEXT + " ", **WHERE),
              sealer.digest(TEXT, **(WHERE | {"row_id": "user-1/evt-2"})),
              sealer.digest(TEXT, **(WHERE | {"column": "title"})),
              sealer.digest(TEXT, **(WHERE | {"table": "users"})),
              (await cipher.sealer("org-1", "user-2")).digest(TEXT, **WHERE),
              (await cipher.sealer("org-2", "user-1")).digest(TEXT, **WHERE),
              (await cipher.sealer("org-1", None)).digest(TEXT, **WHERE)}
    assert digest not in others and len(others) == 7
    assert TEXT not in digest and "Quarterly" not in digest
    bound = encode_parts(WHERE["table"], WHERE["row_id"], WHERE["column"], TEXT)
    unkeyed = {hashlib.sha256(TEXT.encode()).digest(), hashlib.sha256(bound).digest(),
               hmac.new(b"", bound, hashlib.sha256).digest()}
    assert digest not in {form for value in unkeyed for form in (b64e(value), value.hex())}
    await cipher.aclose()


@pytest.mark.anyio
async def test_the_digest_outlives_a_rekey_and_is_the_same_in_another_process(
        make_cipher: MakeCipher, clock: ManualClock) -> None:
    cipher = make_cipher()
    before = await cipher.sealer("org-1", "user-1")
    digest = before.digest(TEXT, **WHERE)
    clock.advance(timedelta(days=31))
    assert await cipher.rekey_due() >= 1
    after = await cipher.sealer("org-1", "user-1")
    assert after.generation == before.generation + 1
    assert not after.is_current(before.seal(TEXT, **WHERE))
    assert after.current_prefix != before.current_prefix
    assert after.digest(TEXT, **WHERE) == digest
    other_process = make_cipher()  # the same database and KMS, its own caches
    assert (await other_process.sealer("org-1", "user-1")).digest(TEXT, **WHERE) == digest
    await cipher.aclose()
    await other_process.aclose()


def test_the_digest_is_hmac_sha256_under_the_derived_key() -> None:
    """The precomputed HMAC states give exactly RFC 2104's HMAC-SHA256 of the bound value
    under HKDF-SHA256(index key, salt, owner)."""
    index_key = bytes(range(32))
    material = KeyMaterial("org-1", "user-1", "kid", 1, bytes(32), UseCounter("kid", 0, 10, 10))
    sealer = Sealer("org-1", "user-1", material, {"kid": material}, index_key,
                    reserve_block=10)
    key = HKDF(SHA256(), 32, salt=b"hybrid-calendar/digest/1",
               info=encode_parts("org-1", "user-1")).derive(index_key)
    for text in (TEXT, "", "Grüße, 会議 🎉" * 50):
        expected = hmac.new(key, encode_parts(WHERE["table"], WHERE["row_id"],
                                              WHERE["column"], text), hashlib.sha256)
        assert sealer.digest(text, **WHERE) == expected.hexdigest()
