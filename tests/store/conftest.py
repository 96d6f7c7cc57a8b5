"""Store fixtures: a real SQLite file and a cipher double that really transforms data."""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from hybrid_calendar.errors import DecryptionError
from hybrid_calendar.store.sqlite import SqliteStore


class XorSealer:
    """Reversible, AAD-binding test sealer (the real one lives in hybrid_calendar.crypto)."""

    def __init__(self, key: bytes) -> None:
        self.key = key

    def _pad(self, aad: str, n: int) -> bytes:
        out = b""
        counter = 0
        while len(out) < n:
            out += hashlib.sha256(self.key + aad.encode() + counter.to_bytes(4, "big")).digest()
            counter += 1
        return out[:n]

    def seal(self, plaintext: str, *, table: str, row_id: str, column: str) -> str:
        aad = f"{table}|{row_id}|{column}"
        data = plaintext.encode()
        body = bytes(a ^ b for a, b in zip(data, self._pad(aad, len(data)), strict=True))
        tag = hmac.new(self.key, aad.encode() + body, "sha256").digest()[:8]
        return "t1." + base64.urlsafe_b64encode(tag + body).decode()

    def open(self, token: str, *, table: str, row_id: str, column: str) -> str:
        aad = f"{table}|{row_id}|{column}"
        raw = base64.urlsafe_b64decode(token[3:])
        tag, body = raw[:8], raw[8:]
        if not hmac.compare_digest(tag, hmac.new(self.key, aad.encode() + body,
                                                 "sha256").digest()[:8]):
            raise DecryptionError("ciphertext does not authenticate")
        return bytes(a ^ b for a, b in zip(body, self._pad(aad, len(body)),
                                           strict=True)).decode()


class TestCipher:
    """FieldCipher double: one key per owner."""

    async def sealer(self, org_id: str, user_id: str | None) -> XorSealer:
        return XorSealer(f"{org_id}/{user_id}".encode())

    async def blind_index(self, org_id: str, value: str) -> str:
        return hmac.new(org_id.encode(), value.casefold().encode(), "sha256").hexdigest()


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[SqliteStore]:
    """An open store on a fresh file."""
    s = SqliteStore(tmp_path / "gw.sqlite3", TestCipher())
    await s.open()
    try:
        yield s
    finally:
        await s.close()
