"""A sync's writes on PostgreSQL: one transaction (shared with other writes by group
commit) holding the meetings, cursor, Join buttons and announcement; a failure to queue
the announcement is logged and undoes nothing else."""

from __future__ import annotations

import asyncio
import logging

import pytest

from hybrid_calendar.models import DeliveryState, NotificationKind
from hybrid_calendar.store.base import SyncWrite
from hybrid_calendar.store.postgres.connection import Conn
from hybrid_calendar.store.postgres.store import PostgresStore
from hybrid_calendar.store.testing import NOW
from hybrid_calendar.store.testing.samples import (
    ALICE,
    join_button,
    meeting,
    meetings_changed,
    seed,
)

pytestmark = pytest.mark.anyio


@pytest.fixture
def store(pg_store: PostgresStore) -> PostgresStore:
    return pg_store


def _write(event_ids: list[str], announcement: str, *, full: bool = True) -> SyncWrite:
    meetings = [meeting(event_id, hour) for hour, event_id in enumerate(event_ids, 1)]
    return SyncWrite(ALICE, meetings, [], "cursor", full_sync=full, synced_at=NOW,
                     buttons=[join_button(m.event_id, ends=m.end) for m in meetings],
                     announcement=meetings_changed(announcement))


async def _refuse_announcements(conn: Conn) -> None:
    await conn.execute(
        "CREATE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
        "IF NEW.kind = 'meetings_changed' THEN RAISE EXCEPTION 'refused'; END IF; "
        "RETURN NEW; END $$")
    await conn.execute("CREATE TRIGGER refuse BEFORE INSERT ON scheduled_notifications "
                       "FOR EACH ROW EXECUTE FUNCTION refuse()")


async def test_a_failed_announcement_undoes_nothing_else(
        store: PostgresStore, caplog: pytest.LogCaptureFixture) -> None:
    await seed(store)
    await store.write(_refuse_announcements)
    with caplog.at_level(logging.WARNING):
        written = await store.write_sync(_write(["e1", "e2"], "m1"))
    assert not written.announced and written.applied.upserted == 2
    assert [m.event_id for m in await store.list_meetings(ALICE, NOW, NOW.replace(
        year=NOW.year + 1))] == ["e1", "e2"]
    pending = await store.list_notifications(ALICE, state=DeliveryState.PENDING)
    assert sorted(n.event_id or "" for n in pending) == ["e1", "e2"]  # the buttons stand
    assert (await store.get_sync_state(ALICE.id)).cursor == "cursor"
    lines = [r.getMessage() for r in caplog.records if "not queued" in r.getMessage()]
    assert len(lines) == 1 and "refused" in lines[0]


async def test_concurrent_sync_writes_share_commits_and_each_stands(
        store: PostgresStore) -> None:
    await seed(store)
    before = store.group_commit.grouped_writes
    results = await asyncio.gather(*(
        store.write_sync(_write([f"e{n:02d}"], f"m{n}", full=False)) for n in range(12)))
    assert all(r.announced for r in results)
    assert store.group_commit.grouped_writes > before  # some shared a transaction
    stored = await store.list_meetings(ALICE, NOW, NOW.replace(year=NOW.year + 1))
    assert sorted(m.event_id for m in stored) == [f"e{n:02d}" for n in range(12)]
    pending = await store.list_notifications(ALICE, state=DeliveryState.PENDING)
    assert sorted(n.event_id or "" for n in pending if n.kind is NotificationKind.JOIN_BUTTON
                  ) == [f"e{n:02d}" for n in range(12)]


async def _row_versions(store: PostgresStore) -> dict[str, str]:
    """Each meeting row's ``xmin``: it changes whenever the row is written."""
    rows = await store.fetch("SELECT event_id, xmin::text AS version FROM meetings "
                             "WHERE user_id = %s", (ALICE.id,))
    return {row["event_id"]: row["version"] for row in rows}


async def test_an_unchanged_sync_writes_no_meeting_row(store: PostgresStore) -> None:
    await seed(store)
    assert (await store.write_sync(_write(["e1", "e2"], "m1"))).applied.upserted == 2
    versions = await _row_versions(store)
    written = await store.write_sync(_write(["e1", "e2"], "m2"))
    assert (written.applied.upserted, written.applied.deleted, written.announced) == (0, 0,
                                                                                      False)
    assert await _row_versions(store) == versions  # not rewritten


async def test_a_token_of_an_older_key_is_sealed_again_but_not_counted(
        store: PostgresStore) -> None:
    await seed(store)
    await store.write_sync(_write(["e1", "e2"], "m1"))
    await store.execute("UPDATE meetings SET sealed = 'x' || sealed WHERE event_id = 'e1'")
    versions = await _row_versions(store)
    written = await store.write_sync(_write(["e1", "e2"], "m2"))
    assert (written.applied.upserted, written.announced) == (0, False)
    assert written.changed_event_ids == frozenset()
    after = await _row_versions(store)
    assert after["e1"] != versions["e1"] and after["e2"] == versions["e2"]
    assert (await store.get_meeting(ALICE, "e1")) == meeting("e1", 1)  # readable again


async def test_rows_without_a_digest_count_as_changed_once(store: PostgresStore) -> None:
    """Rows stored before migration m017 have no digest: the first sync after it counts
    them (and writes their digests), the next one does not."""
    await seed(store)
    await store.write_sync(_write(["e1", "e2"], "m1"))
    await store.execute("UPDATE meetings SET digest = NULL")
    written = await store.write_sync(_write(["e1", "e2"], "m2"))
    assert (written.applied.upserted, written.announced) == (2, True)
    rows = await store.fetch("SELECT digest FROM meetings WHERE user_id = %s", (ALICE.id,))
    assert all(row["digest"] for row in rows)
    written = await store.write_sync(_write(["e1", "e2"], "m3"))
    assert (written.applied.upserted, written.announced) == (0, False)


async def test_deleted_and_upserted_in_one_incremental_page_counts_as_added(
        store: PostgresStore) -> None:
    """The separate-statements path (an id both deleted and upserted) counts too."""
    await seed(store)
    await store.write_sync(_write(["e1", "e2"], "m1"))
    write = _write(["e1", "e2"], "m2", full=False)
    written = await store.write_sync(SyncWrite(
        ALICE, write.upserts, ["e1"], "cursor", full_sync=False, synced_at=NOW,
        buttons=write.buttons, announcement=write.announcement))
    assert (written.applied.upserted, written.applied.deleted) == (1, 1)
    assert written.changed_event_ids == frozenset({"e1"}) and written.announced
