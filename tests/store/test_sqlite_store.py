"""What only the SQLite store promises (the rest is ``StoreTests``, test_conformance.py):
WAL mode, private files, schema upgrades, ciphertexts bound to their rows, cascades."""

from __future__ import annotations

import json
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlite_utils import Database

from hybrid_calendar.models import (
    DeliveryState,
    JoinInfo,
    Meeting,
    NotificationKind,
    Organisation,
    ScheduledNotification,
    SinkDelivery,
    User,
    UserState,
)
from hybrid_calendar.store import codec
from hybrid_calendar.store.migrations import migrations
from hybrid_calendar.store.sqlite import SqliteStore
from hybrid_calendar.store.testing import ReversibleCipher

pytestmark = pytest.mark.anyio

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
ORG = Organisation(id="o1", name="Example", domain="example.com")
ALICE = User(id="u1", org_id="o1", email="alice@example.com", state=UserState.ACTIVE)


def meeting(event_id: str, hours: int = 1, title: str = "Standup") -> Meeting:
    start = NOW + timedelta(hours=hours)
    return Meeting(user_id="u1", event_id=event_id, calendar_id="primary", status="confirmed",
                   start=start, end=start + timedelta(minutes=30), title=title,
                   organizer="bob@example.com", attendees=("alice@example.com",),
                   join=JoinInfo(provider="zoom", url="https://zoom.us/j/1", source="body"))


async def seeded(store: SqliteStore) -> None:
    await store.put_organisation(ORG)
    await store.put_user(ALICE)


async def test_ciphertext_moved_to_another_row_fails(store: SqliteStore) -> None:
    from hybrid_calendar.errors import DecryptionError

    await seeded(store)
    await store.apply_changes(ALICE, [meeting("e1"), meeting("e2", 2)], [], "c", full_sync=True,
                              synced_at=NOW)
    await store.call(lambda db: db.execute(
        "UPDATE meetings SET sealed = (SELECT sealed FROM meetings WHERE event_id='e1') "
        "WHERE event_id='e2'"))
    with pytest.raises(DecryptionError):
        await store.get_meeting(ALICE, "e2")


async def test_schedules_are_idempotent_and_skip_ended(store: SqliteStore) -> None:
    await seeded(store)
    item = ScheduledNotification(key="e1|u1|start", user_id="u1", event_id="e1",
                                 due_at=NOW - timedelta(minutes=5), start=NOW,
                                 end=NOW + timedelta(minutes=30), payload={"url": "x"})
    ended = ScheduledNotification(key="e0|u1|start", user_id="u1", event_id="e0",
                                  due_at=NOW - timedelta(hours=2), start=NOW - timedelta(hours=2),
                                  end=NOW - timedelta(hours=1), payload={})
    await store.schedule(ALICE, [item, ended])
    await store.schedule(ALICE, [item])
    due = await store.due_notifications(NOW, [NotificationKind.JOIN_BUTTON])
    assert [(u.id, n.key, n.payload) for u, n in due] == [("u1", "e1|u1|start", {"url": "x"})]
    assert await store.due_notifications(NOW, [NotificationKind.JOIN_BUTTON]) == []  # leased
    await store.record_deliveries(ALICE, item.key, [SinkDelivery(
        "sink", DeliveryState.DELIVERED, 1)], DeliveryState.DELIVERED, None, NOW)
    await store.schedule(ALICE, [item])  # re-scheduling a sent item does not resend it
    later = NOW + timedelta(minutes=10)
    assert await store.due_notifications(later, [NotificationKind.JOIN_BUTTON]) == []
    [sent] = await store.list_notifications(ALICE, state=DeliveryState.DELIVERED)
    assert sent.state is DeliveryState.DELIVERED and sent.sent_at == NOW
    assert sent.deliveries["sink"].attempts == 1


async def test_outbox_keeps_attempts_and_sealed_reasons(store: SqliteStore) -> None:
    await seeded(store)
    first = ScheduledNotification(key="p1", user_id="u1", event_id=None, due_at=NOW,
                                  start=None, end=None, payload={"out_of_office": True},
                                  kind=NotificationKind.PRESENCE)
    assert await store.enqueue_notification(ALICE, first)
    assert not await store.enqueue_notification(ALICE, first)  # same key: once
    assert await store.due_notifications(NOW, [NotificationKind.JOIN_BUTTON]) == []
    retry_at = NOW + timedelta(minutes=1)
    await store.record_deliveries(ALICE, "p1", [SinkDelivery(
        "sink", DeliveryState.PENDING, 3, "Webex 503 for alice@example.com", retry_at)],
        DeliveryState.PENDING, retry_at, NOW)
    assert await store.due_notifications(NOW, [NotificationKind.PRESENCE]) == []
    [(_, due)] = await store.due_notifications(retry_at, [NotificationKind.PRESENCE])
    record = due.deliveries["sink"]
    assert (record.attempts, record.reason) == (3, "Webex 503 for alice@example.com")
    raw = await store.call(lambda db: list(db.execute(
        "SELECT reason FROM notification_deliveries").fetchall()))
    assert "alice" not in str(raw)  # the reason is sealed
    second = ScheduledNotification(key="p2", user_id="u1", event_id=None, due_at=NOW,
                                   start=None, end=None, payload={"out_of_office": False},
                                   kind=NotificationKind.PRESENCE)
    await store.enqueue_notification(ALICE, second, supersede=True)
    assert [n.key for n in await store.list_notifications(ALICE)] == ["p2"]
    assert await store.call(lambda db: db.execute(
        "SELECT COUNT(*) FROM notification_deliveries").fetchone()[0]) == 0  # cascaded


async def test_upgrades_an_old_schema_database(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite3"
    db = Database(sqlite3.connect(path))
    migrations.apply(db, stop_before="m002_schedules_presence_timezone")
    db.table("organisations").insert({"id": "o1", "name": "Old", "domain": "example.com",
                                      "provider": "google", "settings": "{}", "created_at": 0.0})
    db.conn.commit()
    assert not db["scheduled_notifications"].exists()
    db.close()

    store = SqliteStore(path, ReversibleCipher())
    await store.open()
    assert [o.name for o in await store.list_organisations()] == ["Old"]
    await store.put_user(ALICE)
    assert (await store.get_user("u1")) == ALICE
    assert await store.set_out_of_office("u1", True) is None
    assert await store.set_out_of_office("u1", False) is True
    await store.close()


async def test_purge_drops_old_presence_and_list_notifications(store: SqliteStore) -> None:
    await seeded(store)
    for key, age in (("old", timedelta(days=8)), ("recent", timedelta(days=6))):
        await store.enqueue_notification(ALICE, ScheduledNotification(
            key=key, user_id="u1", event_id=None, due_at=NOW - age, start=None, end=None,
            payload={}, kind=NotificationKind.MEETINGS_CHANGED))
    await store.purge_outside(NOW - timedelta(days=7), NOW + timedelta(days=31))
    assert [n.key for n in await store.list_notifications(ALICE)] == ["recent"]


async def test_outbox_migration_keeps_sent_join_buttons_sent(tmp_path: Path) -> None:
    path = tmp_path / "m003.sqlite3"
    db = Database(sqlite3.connect(path))
    migrations.apply(db, stop_before="m004_notification_outbox")
    sealer = await ReversibleCipher().sealer("o1", "u1")
    for key, sent_at in (("sent", NOW.timestamp()), ("unsent", None)):
        db.table("scheduled_notifications").insert({
            "key": key, "user_id": "u1", "event_id": key, "due_at": NOW.timestamp() - 300,
            "start_at": NOW.timestamp(), "end_at": NOW.timestamp() + 1800, "sent_at": sent_at,
            "payload": sealer.seal("{}", table="scheduled_notifications", row_id=key,
                                   column="payload")})
    db.conn.commit()
    db.close()

    store = SqliteStore(path, ReversibleCipher())
    await store.open()
    try:
        listed = {n.key: n for n in await store.list_notifications(ALICE)}
        assert {k: (n.kind, n.state) for k, n in listed.items()} == {
            "sent": (NotificationKind.JOIN_BUTTON, DeliveryState.DELIVERED),
            "unsent": (NotificationKind.JOIN_BUTTON, DeliveryState.PENDING)}
        await store.put_organisation(Organisation(id="o1", name="Org", domain="example.com"))
        await store.put_user(ALICE)
        due = await store.due_notifications(NOW, [NotificationKind.JOIN_BUTTON])
        assert [n.key for _, n in due] == ["unsent"]
    finally:
        await store.close()


async def test_wal_mode_is_on(store: SqliteStore) -> None:
    mode = await store.call(lambda db: db.execute("PRAGMA journal_mode").fetchone()[0])
    assert mode == "wal"


async def test_database_files_are_private(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "new" / "gw.sqlite3", ReversibleCipher())
    await store.open()
    await store.put_organisation(ORG)
    for path in (tmp_path / "new").iterdir():
        assert path.stat().st_mode & 0o077 == 0, path.name
    assert (tmp_path / "new").stat().st_mode & 0o777 == 0o700
    await store.close()


async def test_meeting_rows_seal_their_fields_once(store: SqliteStore) -> None:
    """One token per row (migration m010) holds every sensitive field; the per-field
    columns are empty, and nothing readable is left in the row."""
    await seeded(store)
    stored = meeting("e1", title="Merger talks")
    await store.apply_changes(ALICE, [stored], [], "c", full_sync=True, synced_at=NOW)
    [row] = await store.call(lambda db: list(db["meetings"].rows_where("event_id='e1'")))
    assert all(row[column] == "" for column in codec.MEETING_SEALED)
    assert "Merger" not in str(row) and "zoom.us" not in str(row)
    assert await store.get_meeting(ALICE, "e1") == stored


async def test_meeting_rows_sealed_per_field_stay_readable(store: SqliteStore) -> None:
    """Rows written before m010 (one token per field, ``sealed`` empty) still open."""
    await seeded(store)
    stored = meeting("e1")
    sealer = await store.cipher.sealer(ALICE.org_id, ALICE.id)
    row = codec.meeting_to_row(sealer, stored)
    row_id = codec.meeting_row_id(ALICE.id, "e1")
    clear = {"calendar_id": stored.calendar_id, "title": stored.title,
             "description": stored.description, "location": stored.location,
             "organizer": stored.organizer or "", "attendees": json.dumps(list(
                 stored.attendees)), "join_info": json.dumps(codec.join_to_json(stored.join)),
             "html_link": ""}
    row.update({column: sealer.seal(value, table="meetings", row_id=row_id, column=column)
                for column, value in clear.items()}, sealed=None)
    await store.call(lambda db: db.table("meetings").insert(row))
    assert await store.get_meeting(ALICE, "e1") == stored


@pytest.mark.anyio
async def test_commits_stay_durable_with_the_larger_checkpoint_interval(
        store: SqliteStore) -> None:
    """WAL with ``synchronous=FULL`` (every commit fsynced before it is acknowledged);
    the WAL is checkpointed every :data:`WAL_AUTOCHECKPOINT_PAGES` pages, not SQLite's
    1,000 (docs/performance.md)."""
    from hybrid_calendar.store.sqlite_base import WAL_AUTOCHECKPOINT_PAGES

    pragmas = await store.call(lambda db: [db.execute(f"PRAGMA {name}").fetchone()[0] for name
                                           in ("journal_mode", "synchronous",
                                               "wal_autocheckpoint")])
    assert pragmas == ["wal", 2, WAL_AUTOCHECKPOINT_PAGES]
    assert WAL_AUTOCHECKPOINT_PAGES > 1000


def _deleted_temp_files() -> list[str]:
    """Files this process holds open that were unlinked (how SQLite keeps a temporary
    file: it deletes it at once and writes through the open descriptor)."""
    found = []
    for fd in Path("/proc/self/fd").iterdir():
        try:
            target = fd.readlink()
        except OSError:  # closed meanwhile
            continue
        if str(target).endswith(" (deleted)"):
            found.append(str(target))
    return found


async def test_a_savepoints_undo_pages_stay_in_memory(store: SqliteStore) -> None:
    """Grouped operations each run in a savepoint (``store/sqlite_worker.py``). SQLite
    keeps the pages a savepoint changes, to undo them, in a statement journal, which by
    default moves to a temporary file past 64 kB: a file created, written, unlinked and
    closed for most grouped syncs, all of it kernel time in the store's thread.
    ``temp_store=MEMORY`` keeps that journal (and any temporary table) in memory."""
    rows = [(f"k{index:05d}", "x" * 900) for index in range(400)]  # ≈ 400 kB, ≈ 100 pages

    def churn(db: Database) -> tuple[int, list[str]]:
        conn = db.conn
        conn.execute("CREATE TABLE churn (key TEXT PRIMARY KEY, body TEXT)")
        conn.executemany("INSERT INTO churn VALUES (?, ?)", rows)
        conn.execute("BEGIN IMMEDIATE")
        conn.execute("SAVEPOINT grouped_operation")
        conn.execute("UPDATE churn SET body = upper(body)")  # every existing page changes
        held = _deleted_temp_files()
        conn.execute("ROLLBACK TO grouped_operation")
        conn.execute("RELEASE grouped_operation")
        conn.execute("COMMIT")
        undone = conn.execute("SELECT count(*) FROM churn WHERE body = ?",
                              ("x" * 900,)).fetchone()[0]
        return undone, held

    before = _deleted_temp_files()
    undone, held = await store.call(churn)
    assert undone == len(rows)  # the savepoint still undoes every change
    assert [name for name in held if name not in before] == []
    assert await store.call(lambda db: db.execute("PRAGMA temp_store").fetchone()[0]) == 2
