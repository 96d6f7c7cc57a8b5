"""The SQLite store against a real database file."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlite_utils import Database

from hybrid_calendar.models import (
    Channel,
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
from hybrid_calendar.store.base import channel_token_matches
from hybrid_calendar.store.migrations import migrations
from hybrid_calendar.store.sqlite import SqliteStore

from .conftest import TestCipher

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


async def test_user_round_trip_and_lookup_by_email(store: SqliteStore) -> None:
    await seeded(store)
    assert await store.get_user("u1") == ALICE
    assert await store.find_user("o1", "ALICE@example.com ".strip()) == ALICE
    assert await store.find_user("o1", "nobody@example.com") is None
    updated = await store.set_user_state("u1", UserState.ERROR, "delegation revoked")
    assert (updated.state, updated.reason) == (UserState.ERROR, "delegation revoked")
    assert [u.id for u in await store.list_users(state=UserState.ERROR)] == ["u1"]
    assert await store.list_users(state=UserState.ACTIVE) == []


async def test_sensitive_fields_are_not_stored_in_clear(store: SqliteStore, tmp_path: Path
                                                        ) -> None:
    await seeded(store)
    await store.apply_changes(ALICE, [meeting("e1", title="SENTINEL-TITLE-42")], [], "c1",
                              full_sync=True, synced_at=NOW)
    await store.close()
    raw = b"".join(p.read_bytes() for p in tmp_path.iterdir() if p.name.startswith("gw"))
    assert b"SENTINEL-TITLE-42" not in raw
    assert b"alice@example.com" not in raw
    assert b"zoom.us/j/1" not in raw
    await store.open()


async def test_apply_changes_stores_meetings_and_cursor_together(store: SqliteStore) -> None:
    await seeded(store)
    result = await store.apply_changes(ALICE, [meeting("e1"), meeting("e2", 3)], [], "c1",
                                       full_sync=True, synced_at=NOW)
    assert (result.upserted, result.deleted) == (2, 0)
    assert (await store.get_sync_state("u1")).cursor == "c1"
    listed = await store.list_meetings(ALICE, NOW, NOW + timedelta(days=1))
    assert [m.event_id for m in listed] == ["e1", "e2"]
    assert listed[0] == meeting("e1")

    result = await store.apply_changes(ALICE, [meeting("e3", 5)], ["e1"], "c2",
                                       full_sync=False, synced_at=NOW)
    assert result.deleted == 1
    ids = [m.event_id for m in await store.list_meetings(ALICE, NOW, NOW + timedelta(days=1))]
    assert ids == ["e2", "e3"]

    result = await store.apply_changes(ALICE, [meeting("e3", 5)], [], "c3", full_sync=True,
                                       synced_at=NOW)
    assert result.deleted == 1  # e2 vanished from the full snapshot
    assert (await store.get_sync_state("u1")).cursor == "c3"


async def test_failed_apply_leaves_cursor_and_rows_untouched(store: SqliteStore) -> None:
    await seeded(store)
    await store.apply_changes(ALICE, [meeting("e1")], [], "c1", full_sync=True, synced_at=NOW)
    broken = Meeting(user_id="u1", event_id="e2", calendar_id="primary", status="confirmed",
                     start=NOW, end=None, title="x")  # type: ignore[arg-type]
    with pytest.raises(Exception):  # noqa: B017 - any failure must roll back
        await store.apply_changes(ALICE, [meeting("e9"), broken], [], "c2", full_sync=False,
                                  synced_at=NOW)
    assert (await store.get_sync_state("u1")).cursor == "c1"
    assert [m.event_id for m in await store.list_meetings(
        ALICE, NOW - timedelta(days=1), NOW + timedelta(days=1))] == ["e1"]


async def test_ciphertext_moved_to_another_row_fails(store: SqliteStore) -> None:
    from hybrid_calendar.errors import DecryptionError

    await seeded(store)
    await store.apply_changes(ALICE, [meeting("e1"), meeting("e2", 2)], [], "c", full_sync=True,
                              synced_at=NOW)
    await store.call(lambda db: db.execute(
        "UPDATE meetings SET title = (SELECT title FROM meetings WHERE event_id='e1') "
        "WHERE event_id='e2'"))
    with pytest.raises(DecryptionError):
        await store.get_meeting(ALICE, "e2")


async def test_jobs_coalesce_and_serialize_per_key(store: SqliteStore) -> None:
    for _ in range(10):
        await store.enqueue("sync", "sync:u1", {"user_id": "u1"}, NOW)
    assert await store.job_counts() == {"queued": 1}
    job = await store.claim(NOW, 60)
    assert job is not None and job.key == "sync:u1"
    for _ in range(10):
        await store.enqueue("sync", "sync:u1", {"user_id": "u1"}, NOW)
    assert await store.job_counts() == {"queued": 1, "running": 1}
    assert await store.claim(NOW, 60) is None  # same key is running: serialized
    await store.enqueue("sync", "sync:u2", {"user_id": "u2"}, NOW)
    other = await store.claim(NOW, 60)
    assert other is not None and other.key == "sync:u2"
    await store.finish(job.id)
    follow_up = await store.claim(NOW, 60)
    assert follow_up is not None and follow_up.key == "sync:u1"


async def test_running_jobs_survive_restart(tmp_path: Path) -> None:
    first = SqliteStore(tmp_path / "q.sqlite3", TestCipher())
    await first.open()
    await first.enqueue("sync", "sync:u1", {"user_id": "u1"}, NOW)
    assert await first.claim(NOW, 60) is not None
    await first.close()  # "crash" with the job running

    second = SqliteStore(tmp_path / "q.sqlite3", TestCipher())
    await second.open()
    assert await second.requeue_running() == 1
    job = await second.claim(NOW, 60)
    assert job is not None and job.attempts == 2
    await second.retry(job.id, "boom", NOW + timedelta(seconds=5))
    assert await second.claim(NOW, 60) is None
    assert await second.claim(NOW + timedelta(seconds=6), 60) is not None
    await second.close()


async def test_channel_tokens_are_stored_hashed(store: SqliteStore) -> None:
    channel = Channel(id="ch1", user_id="u1", resource_id="r1", token="s3cret-token",
                      expires_at=NOW + timedelta(days=7))
    await store.put_channel(channel)
    stored = await store.get_channel("ch1")
    assert stored is not None and "s3cret" not in stored.token
    assert channel_token_matches(stored, "s3cret-token")
    assert not channel_token_matches(stored, "wrong")
    assert not channel_token_matches(stored, None)
    assert await store.list_channels(expiring_before=NOW + timedelta(days=1)) == []
    assert len(await store.list_channels(expiring_before=NOW + timedelta(days=8))) == 1


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


async def test_purge_keeps_only_the_window(store: SqliteStore) -> None:
    await seeded(store)
    old = meeting("old", hours=-24 * 8)
    future = meeting("far", hours=24 * 32)
    await store.apply_changes(ALICE, [old, meeting("now"), future], [], "c", full_sync=True,
                              synced_at=NOW)
    removed = await store.purge_outside(NOW - timedelta(days=7), NOW + timedelta(days=31))
    assert removed == 2
    remaining = await store.list_meetings(ALICE, NOW - timedelta(days=60),
                                          NOW + timedelta(days=60))
    assert [m.event_id for m in remaining] == ["now"]


async def test_upgrades_an_old_schema_database(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite3"
    db = Database(sqlite3.connect(path))
    migrations.apply(db, stop_before="m002_schedules_presence_timezone")
    db["organisations"].insert({"id": "o1", "name": "Old", "domain": "example.com",
                                "provider": "google", "settings": "{}", "created_at": 0.0})
    db.conn.commit()
    assert not db["scheduled_notifications"].exists()
    db.close()

    store = SqliteStore(path, TestCipher())
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
    sealer = await TestCipher().sealer("o1", "u1")
    for key, sent_at in (("sent", NOW.timestamp()), ("unsent", None)):
        db["scheduled_notifications"].insert({
            "key": key, "user_id": "u1", "event_id": key, "due_at": NOW.timestamp() - 300,
            "start_at": NOW.timestamp(), "end_at": NOW.timestamp() + 1800, "sent_at": sent_at,
            "payload": sealer.seal("{}", table="scheduled_notifications", row_id=key,
                                   column="payload")})
    db.conn.commit()
    db.close()

    store = SqliteStore(path, TestCipher())
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


async def test_jobs_of_one_lane_never_run_together(store: SqliteStore) -> None:
    await store.enqueue("activate", "activate:u1", {}, NOW, lane="user:u1")
    await store.enqueue("sync", "sync:u1", {}, NOW, lane="user:u1")
    first = await store.claim(NOW, 60)
    assert first is not None and first.kind == "activate"
    assert await store.claim(NOW, 60) is None
    await store.finish(first.id)
    second = await store.claim(NOW, 60)
    assert second is not None and second.kind == "sync"


async def test_database_files_are_private(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "new" / "gw.sqlite3", TestCipher())
    await store.open()
    await store.put_organisation(ORG)
    for path in (tmp_path / "new").iterdir():
        assert path.stat().st_mode & 0o077 == 0, path.name
    assert (tmp_path / "new").stat().st_mode & 0o777 == 0o700
    await store.close()
