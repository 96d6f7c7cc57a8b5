"""Envelope-layer cost per field with the local KMS: seal, open, blind index.

Run: ``.venv/bin/python bench/crypto_seal.py`` (50k events x 6 fields over 500 users).
"""

from __future__ import annotations

import os
import pathlib
import tempfile
import time

import anyio
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from hybrid_calendar.crypto import FieldCipher, GatewayKms, KeyRepository
from hybrid_calendar.crypto.testing import SqliteRunner, build_gateway

EVENTS, USERS = 50_000, 500
VALUES = {"title": "Weekly sync with the platform team", "description": "Agenda: " + "x" * 400,
          "location": "Room 4.12 @webex", "organizer": "alice@example.com",
          "attendees": ",".join(f"p{i}@example.com" for i in range(8)),
          "join": "https://example.webex.com/meet/alice"}


async def main() -> None:
    """Print the timings."""
    tmp = pathlib.Path(tempfile.mkdtemp())
    gateway = build_gateway(["kms_local"], {"gateway": {"data_dir": str(tmp)}})
    runner = SqliteRunner(tmp / "bench.db")
    cipher = FieldCipher(GatewayKms(gateway), KeyRepository(runner), gateway.clock)
    users = [f"user-{i}" for i in range(USERS)]
    started = time.perf_counter()
    for user in users:
        await cipher.sealer("org", user)
    first = time.perf_counter() - started

    tokens = []
    started = time.perf_counter()
    for event in range(EVENTS):
        user = users[event % USERS]
        sealer = await cipher.sealer("org", user)
        for column, value in VALUES.items():
            tokens.append((user, str(event), column,
                           sealer.seal(value, table="meetings", row_id=str(event),
                                       column=column)))
    sealing = time.perf_counter() - started

    started = time.perf_counter()
    for user, row, column, token in tokens:
        (await cipher.sealer("org", user)).open(token, table="meetings", row_id=row,
                                                column=column)
    opening = time.perf_counter() - started

    sealer = await cipher.sealer("org", users[0])
    started = time.perf_counter()
    for i in range(len(tokens)):
        sealer.seal(VALUES["title"], table="meetings", row_id=str(i), column="title")
    pure = time.perf_counter() - started
    started = time.perf_counter()
    for i in range(EVENTS):
        sealer.blind_index(f"p{i}@example.com")
    index = time.perf_counter() - started
    # baseline, same run: bare AES-256-GCM of the same title with a fresh nonce and AAD
    raw = AESGCM(os.urandom(32))
    plain = VALUES["title"].encode()
    started = time.perf_counter()
    for i in range(len(tokens)):
        raw.encrypt(os.urandom(12), plain, b"meetings|%d|title" % i)
    bare = time.perf_counter() - started
    await cipher.aclose()
    runner.close()
    fields = len(tokens)
    print(f"first sealer per user (wrap + index key + DB): {first / USERS * 1e3:.2f} ms")
    print(f"{EVENTS} events x {len(VALUES)} fields sealed: {sealing:.2f} s "
          f"({sealing / fields * 1e6:.2f} us/field, sealer() once per event)")
    print(f"{fields} fields opened: {opening:.2f} s ({opening / fields * 1e6:.2f} us/field)")
    print(f"Sealer.seal of a title: {pure / fields * 1e6:.2f} us; "
          f"blind index: {index / EVENTS * 1e6:.2f} us")
    print(f"bare AESGCM.encrypt of a title: {bare / fields * 1e6:.2f} us; "
          f"Sealer.seal / bare AES-GCM time ratio: {pure / bare:.2f}")


if __name__ == "__main__":
    anyio.run(main)
