"""A meeting's privacy flag in the sealed JSON: written only when true, so every row
stored before the flag existed is read back as it was and still compares as unchanged
(its digest), with no migration."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

from hybrid_calendar.store import codec
from hybrid_calendar.store.base import ApplyResult, SyncWrite
from hybrid_calendar.store.sqlite import SqliteStore
from hybrid_calendar.store.testing.samples import ALICE, meeting, seed
from hybrid_calendar.store.testing.support import NOW, ReversibleSealer

BEFORE_THE_FLAG = (
    '{"calendar_id":"primary","title":"Standup","description":"Agenda","location":"Room 1",'
    '"organizer":"bob@example.com","attendees":["alice@example.com","bob@example.com"],'
    '"join_info":{"provider":"zoom","url":"https://zoom.us/j/1","source":"body","dial":null,'
    '"meeting_id":null,"passcode":null,"extra":{}},"html_link":""}')
"""The sealed text of ``meeting("e1")`` as the store wrote it before the flag existed."""


def test_a_meeting_that_is_not_private_seals_the_text_it_always_did() -> None:
    assert codec.meeting_clear(meeting("e1")) == BEFORE_THE_FLAG


def test_a_private_meeting_adds_the_flag_and_reads_back_private() -> None:
    private = meeting("e1", private=True)
    clear = codec.meeting_clear(private)
    assert clear == BEFORE_THE_FLAG[:-1] + ',"private":true}'
    assert json.loads(clear)["private"] is True
    sealer = ReversibleSealer(b"k")
    assert codec.row_to_meeting(sealer, codec.meeting_to_row(sealer, private)) == private
    assert codec.row_to_meeting(sealer, codec.meeting_to_row(sealer, meeting("e1"))
                                ).private is False


def test_a_row_of_the_older_per_field_format_is_not_private() -> None:
    sealer = ReversibleSealer(b"k")
    old = meeting("e1")
    row = codec.meeting_plain_columns(old)
    row_id = codec.meeting_row_id(old.user_id, old.event_id)
    fields = json.loads(BEFORE_THE_FLAG)
    for column in codec.MEETING_SEALED:
        value = fields[column]
        text = value if isinstance(value, str) else json.dumps(value)
        row[column] = sealer.seal(text, table="meetings", row_id=row_id, column=column)
    assert codec.row_to_meeting(sealer, row) == old


@pytest.mark.anyio
async def test_a_row_stored_before_the_flag_is_unchanged_by_a_resync(
        store: SqliteStore) -> None:
    """A row whose token and digest were made from the text of before (set directly):
    the same meeting synced again is found as stored; made private, it is changed."""
    await seed(store)
    old = meeting("e1")
    await store.apply_changes(ALICE, [old], [], "c1", full_sync=True, synced_at=NOW)
    sealer = await store.cipher.sealer(ALICE.org_id, ALICE.id)
    token = codec.seal_meeting_clear(sealer, old, BEFORE_THE_FLAG)
    digest = codec.meeting_digest(sealer, old, BEFORE_THE_FLAG)
    await store.call(lambda db: db.execute(
        "UPDATE meetings SET sealed = ?, digest = ? WHERE event_id = 'e1'", (token, digest)))
    assert await store.get_meeting(ALICE, "e1") == old

    again = await store.write_sync(SyncWrite(ALICE, [old], [], "c2", full_sync=True,
                                             synced_at=NOW))
    assert again.applied == ApplyResult(upserted=0, deleted=0)
    stored = await store.call(lambda db: db.execute(
        "SELECT sealed FROM meetings WHERE event_id = 'e1'").fetchone()[0])
    assert stored == token  # not written again

    private = replace(old, private=True)
    changed = await store.write_sync(SyncWrite(ALICE, [private], [], "c3", full_sync=True,
                                               synced_at=NOW))
    assert changed.changed_event_ids == frozenset({"e1"})
    assert await store.get_meeting(ALICE, "e1") == private
