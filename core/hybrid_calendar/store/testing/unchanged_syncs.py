"""Store suite, part 10: what a sync counts as changed (:class:`ApplyResult`, and
the ``changed_event_ids`` and ``deleted_event_ids`` of it and of ``SyncWriteResult``,
which every backend of the suite names).

A meeting counts as upserted when the store did not hold it, or held it with different
content (a clear field such as its start, or a sealed one such as its title); one found
exactly as stored counts as nothing. So a sync that finds everything as stored (a
safety-net full sync, a sync after a token reset) reports nothing changed and queues no
meetings-changed notification: that notification reaches people's apps and devices.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from hybrid_calendar.models import DeliveryState, Meeting, NotificationKind
from hybrid_calendar.store.base import ApplyResult, Store, SyncWrite
from hybrid_calendar.store.testing.samples import (
    ALICE,
    join_button,
    meeting,
    meetings_changed,
    seed,
)
from hybrid_calendar.store.testing.support import NOW, StoreFixtures, covers

DAY = timedelta(days=1)


def _page() -> list[Meeting]:
    return [meeting("e1"), meeting("e2", 2), meeting("e3", 3)]


def _write(meetings: list[Meeting], announcement: str, *, full: bool = True,
           deleted: tuple[str, ...] = ()) -> SyncWrite:
    return SyncWrite(ALICE, meetings, list(deleted), f"cursor-{announcement}", full_sync=full,
                     synced_at=NOW, buttons=[join_button(m.event_id, ends=m.end)
                                             for m in meetings],
                     announcement=meetings_changed(announcement))


async def _announcements(store: Store) -> list[str]:
    """Keys of the user's pending meetings-changed notifications."""
    return sorted(n.key for n in await store.list_notifications(
        ALICE, state=DeliveryState.PENDING) if n.kind is NotificationKind.MEETINGS_CHANGED)


class UnchangedSyncTests(StoreFixtures):
    """Only meetings whose stored row changed count; an unchanged sync announces nothing."""

    @pytest.mark.anyio
    @pytest.mark.parametrize("full", [True, False], ids=["full", "incremental"])
    @covers("write_sync", "list_notifications", "list_meetings", "get_sync_state")
    async def test_a_second_identical_sync_changes_and_announces_nothing(
            self, store: Store, full: bool) -> None:
        await seed(store)
        first = await store.write_sync(_write(_page(), "m1"))
        assert first.applied == ApplyResult(upserted=3, deleted=0)  # a first sync: all
        assert first.changed_event_ids == frozenset({"e1", "e2", "e3"})
        assert first.announced
        assert await _announcements(store) == ["m1"]

        again = await store.write_sync(_write(_page(), "m2", full=full))
        assert again.applied == ApplyResult(upserted=0, deleted=0)
        assert again.changed_event_ids == frozenset()
        assert not again.announced
        assert await _announcements(store) == ["m1"]  # m2 not queued, m1 not superseded
        assert await store.list_meetings(ALICE, NOW, NOW + DAY) == _page()
        assert (await store.get_sync_state(ALICE.id)).cursor == "cursor-m2"  # still saved

    @pytest.mark.anyio
    @pytest.mark.parametrize("full", [True, False], ids=["full", "incremental"])
    @covers("write_sync", "list_notifications", "get_meeting")
    async def test_one_changed_meeting_counts_one_and_announces(
            self, store: Store, full: bool) -> None:
        await seed(store)
        await store.write_sync(_write(_page(), "m1"))
        page = _page()
        e2, e3 = page[1:]
        renamed = replace(e2, title="Renamed")  # a sealed field
        moved = replace(e3, start=e3.start + timedelta(minutes=15),
                        end=e3.end + timedelta(minutes=15))  # clear fields
        for index, changed, key in ((1, renamed, "m2"), (2, moved, "m3")):
            page[index] = changed  # the earlier change stays in the page
            written = await store.write_sync(_write(page, key, full=full))
            assert written.applied == ApplyResult(upserted=1, deleted=0)
            assert written.changed_event_ids == frozenset({changed.event_id})
            assert written.announced
            assert await _announcements(store) == [key]
            assert await store.get_meeting(ALICE, changed.event_id) == changed

    @pytest.mark.anyio
    @covers("write_sync", "get_meeting")
    async def test_a_meeting_made_private_counts_as_changed_then_as_stored(
            self, store: Store) -> None:
        """The privacy flag is part of the sealed content: a meeting made private (or
        public again) is changed, so the sinks mirror it; synced again, it is not."""
        await seed(store)
        await store.write_sync(_write(_page(), "m1"))
        page = _page()
        for index, (private, key) in enumerate(((True, "m2"), (True, "m3"),
                                                (False, "m4"))):
            page[1] = replace(page[1], private=private)
            written = await store.write_sync(_write(page, key, full=False))
            changed = index != 1
            assert written.applied == ApplyResult(upserted=int(changed), deleted=0)
            assert written.changed_event_ids == (frozenset({"e2"}) if changed
                                                 else frozenset())
            assert await store.get_meeting(ALICE, "e2") == page[1]

    @pytest.mark.anyio
    @covers("write_sync", "list_notifications")
    async def test_a_deleted_meeting_alone_counts_and_announces(self, store: Store) -> None:
        await seed(store)
        await store.write_sync(_write(_page(), "m1"))
        e1, e2, _ = _page()
        written = await store.write_sync(_write([e1, e2], "m2"))  # full: e3 is gone
        assert written.applied == ApplyResult(upserted=0, deleted=1)
        assert written.deleted_event_ids == frozenset({"e3"})  # no tombstone named it
        assert written.changed_event_ids == frozenset()
        assert written.announced
        assert await _announcements(store) == ["m2"]

    @pytest.mark.anyio
    @pytest.mark.parametrize("relisted", [False, True], ids=["deleted", "deleted-and-listed"])
    @covers("write_sync", "get_meeting")
    async def test_an_incremental_sync_names_the_stored_meetings_it_deleted(
            self, store: Store, relisted: bool) -> None:
        await seed(store)
        await store.write_sync(_write(_page(), "m1"))
        e1, e2, _ = _page()
        upserts = [e1, replace(e2, title="Renamed")] if relisted else [e1]
        deleted = ("e2", "e3", "never-stored") if relisted else ("e3", "never-stored")
        written = await store.write_sync(_write(upserts, "m2", full=False, deleted=deleted))
        if relisted:  # e2 deleted, then written anew in the same page
            assert written.applied == ApplyResult(upserted=1, deleted=2)
            assert written.deleted_event_ids == frozenset({"e2", "e3"})
            assert written.changed_event_ids == frozenset({"e2"})
            assert await store.get_meeting(ALICE, "e2") == upserts[1]
        else:
            assert written.applied == ApplyResult(upserted=0, deleted=1)
            assert written.deleted_event_ids == frozenset({"e3"})
            assert written.changed_event_ids == frozenset()
        assert await store.get_meeting(ALICE, "e3") is None

    @pytest.mark.anyio
    @covers("apply_changes")
    async def test_apply_changes_counts_only_what_changed(self, store: Store) -> None:
        await seed(store)
        e1, e2, e3 = _page()
        assert await store.apply_changes(ALICE, [e1, e2, e3], [], "c1", full_sync=True,
                                         synced_at=NOW) == ApplyResult(upserted=3, deleted=0)
        assert await store.apply_changes(ALICE, [e1, e2, e3], [], "c2", full_sync=True,
                                         synced_at=NOW) == ApplyResult(upserted=0, deleted=0)
        assert await store.apply_changes(
            ALICE, [e1, replace(e2, description="Changed agenda"), e3], [], "c3",
            full_sync=False, synced_at=NOW) == ApplyResult(upserted=1, deleted=0)
        # deleted and listed again in one incremental page: written anew
        assert await store.apply_changes(ALICE, [e1], ["e1"], "c4", full_sync=False,
                                         synced_at=NOW) == ApplyResult(upserted=1, deleted=1)
        assert await store.get_meeting(ALICE, "e1") == e1

    @pytest.mark.anyio
    @covers("apply_changes")
    async def test_apply_changes_names_what_changed_and_what_it_deleted(
            self, store: Store) -> None:
        await seed(store)
        e1, e2, e3 = _page()
        first = await store.apply_changes(ALICE, [e1, e2, e3], [], "c1", full_sync=True,
                                          synced_at=NOW)
        assert first.changed_event_ids == frozenset({"e1", "e2", "e3"})
        assert first.deleted_event_ids == frozenset()
        full = await store.apply_changes(ALICE, [e1, replace(e2, title="Renamed")], [], "c2",
                                         full_sync=True, synced_at=NOW)  # e3 not listed
        assert full == ApplyResult(upserted=1, deleted=1)
        assert full.changed_event_ids == frozenset({"e2"})
        assert full.deleted_event_ids == frozenset({"e3"})
        incremental = await store.apply_changes(ALICE, [], ["e2", "never-stored"], "c3",
                                                full_sync=False, synced_at=NOW)
        assert incremental.changed_event_ids == frozenset()
        assert incremental.deleted_event_ids == frozenset({"e2"})
        relisted = await store.apply_changes(ALICE, [e1], ["e1"], "c4", full_sync=False,
                                             synced_at=NOW)
        assert relisted.changed_event_ids == frozenset({"e1"})
        assert relisted.deleted_event_ids == frozenset({"e1"})

    @pytest.mark.anyio
    @covers("apply_changes", "enqueue_notification")  # what the default calls
    async def test_the_default_write_sync_names_them_too(self, store: Store) -> None:
        """``Store.write_sync``'s default (a store without its own; PostgreSQL's when its
        one statement fails) passes on what ``apply_changes`` names, so the room-device
        mirror still hears of a meeting a full sync no longer lists."""
        await seed(store)
        await Store.write_sync(store, _write(_page(), "m1"))
        e1, e2, _ = _page()
        written = await Store.write_sync(store, _write([e1, replace(e2, title="Renamed")],
                                                       "m2"))
        assert written.applied == ApplyResult(upserted=1, deleted=1)
        assert written.changed_event_ids == frozenset({"e2"})
        assert written.deleted_event_ids == frozenset({"e3"})
        assert written.announced
