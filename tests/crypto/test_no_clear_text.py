"""Sentinel strings sealed into a database never appear in its file or WAL."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from hybrid_calendar.crypto.testing import SqliteRunner
from hybrid_calendar.errors import DecryptionError

from .conftest import MakeCipher

SENTINELS = {
    "title": "SENTINEL-TITLE-7f3a Merger talks",
    "description": "SENTINEL-BODY-91c2 agenda: layoffs",
    "location": "SENTINEL-LOC-55d0 Boardroom 3",
    "organizer": "sentinel-organiser-0b1e@example.com",
    "attendees": "sentinel-invitee-c4d2@example.com",
    "join": "https://example.webex.com/meet/sentinel-join-88aa",
}


@pytest.mark.anyio
async def test_sentinels_absent_from_file_and_wal(make_cipher: MakeCipher, runner: SqliteRunner,
                                                  db_path: Path) -> None:
    cipher = make_cipher()
    rows = []
    for i in range(50):
        sealer = await cipher.sealer("org-1", f"user-{i % 5}")
        row = {"id": f"evt-{i}", "user_id": f"user-{i % 5}",
               "organizer_index": sealer.blind_index(SENTINELS["organizer"])}
        for column, value in SENTINELS.items():
            row[column] = sealer.seal(value, table="meetings", row_id=row["id"], column=column)
        rows.append(row)
    await runner(lambda db: db.table("meetings").insert_all(rows, pk="id"))
    await cipher.aclose()
    wal = db_path.with_name(db_path.name + "-wal")
    assert wal.exists() and wal.stat().st_size > 0  # the WAL holds the data: scan it too
    raw = (db_path.read_bytes() + wal.read_bytes()).lower()
    for value in SENTINELS.values():
        for needle in (value, value.split()[0], value.split("@")[0]):
            assert needle.lower().encode() not in raw, needle
    reopened = make_cipher()
    sealer = await reopened.sealer("org-1", "user-3")
    row = runner.db.table("meetings").get("evt-3")
    assert sealer.open(row["title"], table="meetings", row_id="evt-3",
                       column="title") == SENTINELS["title"]


@pytest.mark.anyio
async def test_logs_and_errors_carry_no_clear_text(make_cipher: MakeCipher,
                                                   caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    cipher = make_cipher(max_uses=2)
    messages = []
    sealer = await cipher.sealer("org-1", "user-1")
    token = sealer.seal(SENTINELS["title"], table="meetings", row_id="e", column="title")
    for _ in range(3):
        (await cipher.sealer("org-1", "user-1")).seal(SENTINELS["description"],
                                                      table="meetings", row_id="e",
                                                      column="description")
    await cipher.rotate_master_key()
    await cipher.rekey_due()
    for where in ({"row_id": "other"}, {"column": "location"}):
        with pytest.raises(DecryptionError) as refused:  # the error text is checked below
            sealer.open(token, **({"table": "meetings", "row_id": "e", "column": "title"}
                                  | where))
        messages.append(str(refused.value))
    await cipher.blind_index("org-1", SENTINELS["organizer"])
    await cipher.forget_user("org-1", "user-1")
    assert caplog.records  # key creation and rotation are logged
    text = caplog.text + "\n".join(messages)
    for value in SENTINELS.values():
        assert value.split()[0].lower() not in text.lower()
    assert token not in text
