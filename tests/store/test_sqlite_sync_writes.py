"""The SQLite store leaves a meeting alone when its stored row already says the same:
no seal and no write (the row keeps its token), and the meeting's Join button neither;
anything different, a token under an older key or in the older per-field format, is
written again. The compact JSON the store seals is ``json.dumps``'s, byte for byte."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hybrid_calendar.models import Meeting
from hybrid_calendar.store import codec
from hybrid_calendar.store.base import ApplyResult, SyncWrite, SyncWriteResult
from hybrid_calendar.store.sqlite import SqliteStore
from hybrid_calendar.store.testing.samples import ALICE, join_button, meeting, seed
from hybrid_calendar.store.testing.support import NOW, ReversibleSealer


async def _tokens(store: SqliteStore) -> dict[str, str]:
    return dict(await store.call(lambda db: db.execute(
        "SELECT event_id, sealed FROM meetings ORDER BY event_id").fetchall()))


async def _count_writes(store: SqliteStore) -> None:
    """From now on, record every row written to meetings and the outbox in ``writes``."""
    def create(db: Any) -> None:
        db.execute("CREATE TABLE writes (name TEXT)")
        for table, name in (("meetings", "new.event_id"), ("scheduled_notifications",
                                                           "'button ' || new.event_id")):
            for when in ("INSERT", "UPDATE"):
                db.execute(f"CREATE TRIGGER count_{table}_{when} AFTER {when} ON {table} "
                           f"BEGIN INSERT INTO writes VALUES ({name}); END")
    await store.call(create)


async def _writes(store: SqliteStore) -> list[str]:
    return sorted(name for (name,) in await store.call(lambda db: db.execute(
        "SELECT name FROM writes").fetchall()))


async def _sync(store: SqliteStore, meetings: list[Meeting], *, full: bool = True
                ) -> SyncWriteResult:
    buttons = [join_button(m.event_id, ends=m.end) for m in meetings]
    return await store.write_sync(SyncWrite(ALICE, meetings, [], "c", full_sync=full,
                                            synced_at=NOW, buttons=buttons))


@pytest.mark.anyio
@pytest.mark.parametrize("full", [True, False])
async def test_an_unchanged_meeting_and_its_button_are_not_written_again(
        store: SqliteStore, full: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    await seed(store)
    e1, e2, e3 = meeting("e1"), meeting("e2", 2), meeting("e3", 3)
    await _sync(store, [e1, e2, e3])
    await _count_writes(store)
    sealed: list[str] = []
    seal = ReversibleSealer.seal

    def counted(self: ReversibleSealer, plaintext: str, **where: str) -> str:
        sealed.append(where["row_id"])
        return seal(self, plaintext, **where)
    monkeypatch.setattr(ReversibleSealer, "seal", counted)
    renamed = replace(e2, title="Renamed")
    new_etag = replace(e3, etag='"2"')  # same content, another etag: written again
    written = await _sync(store, [e1, renamed, new_etag], full=full)
    assert written.applied == ApplyResult(upserted=2, deleted=0)
    assert written.changed_event_ids == frozenset({"e2", "e3"})
    # e1 and its button: no seal, no write; the others' buttons are written again
    assert await _writes(store) == ["button e2", "button e3", "e2", "e3"]
    assert sorted(sealed) == sorted([f"{ALICE.id}/e2", f"{ALICE.id}/e3",
                                     join_button("e2").key, join_button("e3").key])
    assert await store.get_meeting(ALICE, "e1") == e1
    assert await store.get_meeting(ALICE, "e2") == renamed
    assert await store.get_meeting(ALICE, "e3") == new_etag


@pytest.mark.anyio
async def test_rows_of_an_older_key_or_format_are_written_again(
        store: SqliteStore, monkeypatch: pytest.MonkeyPatch) -> None:
    await seed(store)
    e1, e2 = meeting("e1"), meeting("e2", 2)
    await _sync(store, [e1, e2])
    before = await _tokens(store)
    # e1 as a row of before migration m010: one token per field, no row token
    sealer = ReversibleSealer(f"{ALICE.org_id}/{ALICE.id}".encode())
    clear = json.loads(codec.open_meeting_clear(sealer, ALICE.id, "e1", before["e1"]))
    fields = {c: sealer.seal(v if isinstance(v, str) else json.dumps(v), table="meetings",
                             row_id=f"{ALICE.id}/e1", column=c) for c, v in clear.items()}
    await store.call(lambda db: db.execute(
        f"UPDATE meetings SET sealed = NULL, {', '.join(f'{c} = ?' for c in fields)} "
        "WHERE event_id = 'e1'", list(fields.values())))
    assert await store.get_meeting(ALICE, "e1") == e1
    # e2's token made by a key that is no longer the current one
    await _count_writes(store)
    monkeypatch.setattr(ReversibleSealer, "is_current", lambda self, token: False)
    written = await _sync(store, [e1, e2])
    assert await _writes(store) == ["button e1", "button e2", "e1", "e2"]
    # both say what they said (their digests): written again, not counted as changed
    assert written.applied == ApplyResult(upserted=0, deleted=0)
    assert (await _tokens(store))["e1"]
    assert [await store.get_meeting(ALICE, e) for e in ("e1", "e2")] == [e1, e2]


@pytest.mark.anyio
async def test_a_row_without_a_digest_is_compared_by_its_token_and_given_one(
        store: SqliteStore) -> None:
    """Rows stored before migration m017 have no digest: their tokens are opened and
    compared, so an unchanged one is not counted; it is written once (its button too),
    with its digest."""
    await seed(store)
    e1, e2 = meeting("e1"), meeting("e2", 2)
    await _sync(store, [e1, e2])
    await store.call(lambda db: db.execute("UPDATE meetings SET digest = NULL"))
    await _count_writes(store)
    written = await _sync(store, [e1, replace(e2, title="Renamed")])
    assert written.applied == ApplyResult(upserted=1, deleted=0)
    assert written.changed_event_ids == frozenset({"e2"})
    assert await _writes(store) == ["button e1", "button e2", "e1", "e2"]
    assert all(await store.call(lambda db: [d for (d,) in db.execute(
        "SELECT digest FROM meetings").fetchall()]))
    written = await _sync(store, [e1, replace(e2, title="Renamed")])
    assert written.applied == ApplyResult(upserted=0, deleted=0)
    assert await _writes(store) == ["button e1", "button e2", "e1", "e2"]  # nothing more


@pytest.mark.anyio
async def test_a_moved_button_of_an_unchanged_meeting_is_written(store: SqliteStore) -> None:
    await seed(store)
    e1 = meeting("e1")
    await _sync(store, [e1])
    earlier = replace(join_button("e1", ends=e1.end), due_at=NOW - timedelta(minutes=9))
    await store.write_sync(SyncWrite(ALICE, [e1], [], "c", full_sync=True, synced_at=NOW,
                                     buttons=[earlier]))
    [button] = await store.list_notifications(ALICE)
    assert button.due_at == earlier.due_at


_TEXT = st.text(alphabet=st.characters(codec="utf-8"), max_size=40) | st.sampled_from(
    ["", "Zoom \u2028 line", "tab\tnew\nline\r", "quote \" back \\ slash /", "\x00\x1f\x7f",
     "Grüße, 会議, 🎉", "\ud83c"])  # the last one a lone surrogate: json.dumps writes it
_JSON: Any = st.recursive(
    st.none() | st.booleans() | st.integers(-2**63, 2**63 - 1) | _TEXT,
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(_TEXT, inner, max_size=5),
    max_leaves=20)


@settings(max_examples=500, deadline=None)
@given(_JSON)
def test_compact_json_is_json_dumps_text(value: Any) -> None:
    assert codec.compact_json(value) == json.dumps(value, ensure_ascii=False,
                                                   separators=(",", ":"))


def test_compact_json_of_realistic_meetings_is_json_dumps_text() -> None:
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).parents[2] / "bench"))
    from parse_join import make_events

    from hybrid_calendar.engine.sync import meeting_from_event
    from hybrid_calendar.join_info.detect import detect
    from hybrid_calendar_google.event_json import event_from_google

    for resource in make_events(2_000):
        event = event_from_google(resource, ALICE.email)
        found = meeting_from_event(ALICE, event, detect(event))
        text = codec.meeting_clear(found)
        assert text == json.dumps(json.loads(text), ensure_ascii=False, separators=(",", ":"))


@pytest.mark.anyio
async def test_written_rows_are_those_of_meeting_to_row(store: SqliteStore) -> None:
    """The sync's upsert binds the clear columns by position and writes the empty
    per-field columns as literals: every stored column is what ``codec.meeting_to_row``
    (the dict bound by name, as before) gives, and each token opens to the same text."""
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).parents[2] / "bench"))
    from parse_join import make_events

    from hybrid_calendar.engine.sync import meeting_from_event
    from hybrid_calendar.join_info.detect import detect
    from hybrid_calendar_google.event_json import event_from_google

    await seed(store)
    meetings = []
    for n, resource in enumerate(make_events(300)):
        event = event_from_google(resource, ALICE.email)
        found = meeting_from_event(ALICE, event, detect(event))
        meetings.append(replace(found, event_id=f"e{n:04d}", recurring_event_id=(
            None if n % 3 else "series"), marker=None if n % 5 else "m", all_day=n % 7 == 0))
    await store.write_sync(SyncWrite(ALICE, meetings, [], "c", full_sync=True,
                                     synced_at=NOW))

    def rows(db: Any) -> list[dict[str, Any]]:
        cursor = db.execute("SELECT * FROM meetings ORDER BY event_id")
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
    stored = await store.call(rows)
    sealer = ReversibleSealer(f"{ALICE.org_id}/{ALICE.id}".encode())
    assert len(stored) == len(meetings)
    for row, expected_meeting in zip(stored, meetings, strict=True):
        expected = codec.meeting_to_row(sealer, expected_meeting)
        assert set(row) == set(expected)
        assert {c: v for c, v in row.items() if c != codec.ROW_COLUMN} == \
            {c: v for c, v in expected.items() if c != codec.ROW_COLUMN}
        event_id = expected_meeting.event_id
        assert codec.open_meeting_clear(sealer, ALICE.id, event_id, row[codec.ROW_COLUMN]) \
            == codec.open_meeting_clear(sealer, ALICE.id, event_id, expected[codec.ROW_COLUMN])
        assert codec.row_to_meeting(sealer, row) == expected_meeting
