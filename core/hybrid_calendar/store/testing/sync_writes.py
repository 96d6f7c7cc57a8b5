"""Store suite, part 8: a sync's writes in one call (:meth:`Store.write_sync`)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import timedelta

import pytest

from hybrid_calendar.admin.sql import execute
from hybrid_calendar.models import (
    DeliveryState,
    Meeting,
    NotificationKind,
    ScheduledNotification,
    SinkDelivery,
)
from hybrid_calendar.store.base import (
    ApplyResult,
    Store,
    SyncSuccess,
    SyncWrite,
    SyncWriteResult,
    WithdrawPlan,
)
from hybrid_calendar.store.testing.samples import (
    ALICE,
    join_button,
    meeting,
    meetings_changed,
    seed,
)
from hybrid_calendar.store.testing.support import NOW, StoreFixtures, covers

MINUTE = timedelta(minutes=1)


async def _pending(store: Store) -> dict[str, ScheduledNotification]:
    return {n.key: n for n in await store.list_notifications(ALICE,
                                                             state=DeliveryState.PENDING)}


class SyncWriteTests(StoreFixtures):
    """Meetings, cursor, Join buttons and the meetings-changed notification together."""

    @pytest.mark.anyio
    @covers("write_sync", "list_meetings", "list_notifications", "get_sync_state")
    async def test_write_sync_stores_meetings_buttons_and_the_announcement(
            self, store: Store) -> None:
        await seed(store)
        e1, e2 = meeting("e1"), meeting("e2", 3)
        buttons = [join_button("e1", ends=e1.end), join_button("e2", ends=e2.end)]
        written = await store.write_sync(SyncWrite(
            ALICE, [e1, e2], [], "c1", full_sync=True, synced_at=NOW, buttons=buttons,
            announcement=meetings_changed("m1"), announce_at=NOW + MINUTE))
        assert written.applied == ApplyResult(upserted=2, deleted=0)
        assert written.announced
        assert await store.list_meetings(ALICE, NOW, NOW + timedelta(days=1)) == [e1, e2]
        assert (await store.get_sync_state(ALICE.id)).cursor == "c1"
        pending = await _pending(store)
        assert sorted(pending) == sorted([b.key for b in buttons] + ["m1"])
        assert pending["m1"].kind is NotificationKind.MEETINGS_CHANGED
        assert dict(pending[buttons[0].key].payload) == dict(buttons[0].payload)

        # the same e1 again (nothing changed) with its button due earlier, e2 renamed:
        # both as stored, only e2 counts; the newer announcement supersedes the pending one
        renamed = replace(e2, title="Renamed")
        earlier = replace(buttons[0], due_at=NOW - 5 * MINUTE)
        moved = replace(buttons[1], payload={"event_id": "e2", "title": "Renamed"})
        written = await store.write_sync(SyncWrite(
            ALICE, [e1, renamed], [], "c2", full_sync=False, synced_at=NOW,
            buttons=[earlier, moved], announcement=meetings_changed("m2")))
        assert written.applied == ApplyResult(upserted=1, deleted=0) and written.announced
        assert await store.list_meetings(ALICE, NOW, NOW + timedelta(days=1)) == [e1, renamed]
        pending = await _pending(store)
        assert sorted(pending) == sorted([b.key for b in buttons] + ["m2"])
        assert pending[earlier.key].due_at == earlier.due_at
        assert dict(pending[moved.key].payload) == {"event_id": "e2", "title": "Renamed"}

        # nothing changed: no announcement; e2 deleted: its pending button goes too
        written = await store.write_sync(SyncWrite(
            ALICE, [], [], "c3", full_sync=False, synced_at=NOW,
            announcement=meetings_changed("m3")))
        assert written.applied == ApplyResult(upserted=0, deleted=0)
        assert not written.announced
        written = await store.write_sync(SyncWrite(
            ALICE, [], ["e2"], "c4", full_sync=False, synced_at=NOW))
        assert written.applied == ApplyResult(upserted=0, deleted=1)
        assert not written.announced  # none given
        assert sorted(await _pending(store)) == sorted([earlier.key, "m2"])
        assert (await store.get_sync_state(ALICE.id)).cursor == "c4"

    @pytest.mark.anyio
    @covers("write_sync", "call")
    async def test_a_sync_write_may_carry_the_syncs_health_record(self, store: Store) -> None:
        """A store that says it stored ``SyncWrite.health`` has the row the admin API
        reads (``user_health``); one that does not leaves it to the caller."""
        await seed(store)
        failed = await store.call(lambda db: execute(
            db, "INSERT INTO user_health (user_id, consecutive_failures, backoff_until, "
            "sync_token_resets) VALUES (?, 3, ?, 1)", [ALICE.id, NOW.timestamp() + 60]))
        assert failed is not None
        # a full sync, an incremental one, and one that deletes and lists the same event
        # (PostgreSQL's separate statements)
        rounds: tuple[tuple[list[Meeting], list[str], bool, bool], ...] = (
            ([meeting("e1")], [], False, True), ([], [], True, False),
            ([meeting("e1", 2)], ["e1"], True, False))
        for round_, (upserts, deleted, incremental, token_reset) in enumerate(rounds):
            written = await store.write_sync(SyncWrite(
                ALICE, upserts, deleted, f"c{round_}", full_sync=not incremental,
                synced_at=NOW,
                health=SyncSuccess(NOW.timestamp() + round_, 0.25 + round_, token_reset)))
            row = await store.call(lambda db: execute(
                db, "SELECT last_success_at, last_sync_seconds, consecutive_failures, "
                "backoff_until, sync_token_resets FROM user_health WHERE user_id = ?",
                [ALICE.id]).fetchone())
            if not written.health_recorded:
                assert tuple(row)[2:] == (3, NOW.timestamp() + 60, 1)  # the caller's to do
                continue
            assert tuple(row) == (NOW.timestamp() + round_, 0.25 + round_, 0, None, 2)

    @pytest.mark.anyio
    @covers("write_sync", "record_deliveries", "list_notifications")
    async def test_a_sync_write_withdraws_the_delivered_join_buttons_it_undoes(
            self, store: Store) -> None:
        """With ``withdraw``, the write deletes the delivered Join buttons of the events it
        touches whose key it no longer schedules (of any event, in a full sync: one not
        listed is gone) and queues their notices, in the same call; buttons of ended
        meetings, of untouched events and still scheduled ones stay."""
        await _withdrawals(store, store.write_sync)

    @pytest.mark.anyio
    @covers("apply_changes", "schedule", "delivered_join_buttons", "enqueue_notification",
            "forget_notifications", "list_notifications")
    async def test_the_default_sync_write_withdraws_the_same_buttons(
            self, store: Store) -> None:
        """:meth:`Store.write_sync`'s default (for a store without a write of its own)
        withdraws the same buttons, one call after another."""
        await _withdrawals(store, lambda write: Store.write_sync(store, write))


async def _withdrawals(store: Store,
                   write_sync: Callable[[SyncWrite], Awaitable[SyncWriteResult]]) -> None:
    """The withdrawal scenario of the two tests above, through ``write_sync``."""
    await seed(store)
    moved_e1 = meeting("e1", 5)
    e1, e2, e3, e4, ended = (meeting("e1"), meeting("e2", 2), meeting("e3", 3),
                             meeting("e4", 4), meeting("e5", -2))
    buttons = {m.event_id: join_button(m.event_id, due=m.start - 5 * MINUTE, ends=m.end)
               for m in (e1, e2, e3, e4, ended)}
    await write_sync(SyncWrite(ALICE, [e1, e2, e3, e4, ended], [], "c1", full_sync=True,
                               synced_at=NOW, buttons=list(buttons.values())))
    receipt = SinkDelivery("webex", DeliveryState.DELIVERED, attempts=1, updated_at=NOW)
    for button in buttons.values():
        await store.record_deliveries(ALICE, button.key, [receipt],
                                      DeliveryState.DELIVERED, None, NOW)
    plan = WithdrawPlan(at=NOW, first_attempt=NOW + MINUTE)
    new_e1 = join_button("e1", due=moved_e1.start - 5 * MINUTE, ends=moved_e1.end,
                         key="k-e1-moved")
    write = SyncWrite(ALICE, [moved_e1, e2], ["e3", "e5"], "c2", full_sync=False,
                      synced_at=NOW, buttons=[new_e1, buttons["e2"]], withdraw=plan)
    written = await write_sync(write)
    assert [(n.key, n.event_id, dict(n.payload)["reason"], n.kind)
            for n in written.withdrawn] == [
        (f"withdrawn|{buttons[e].key}|{NOW.timestamp():.6f}", e, reason,
         NotificationKind.JOIN_BUTTON_WITHDRAWN)
        for e, reason in (("e1", "moved"), ("e3", "cancelled"))]
    notices = {n.key: n for n in await store.list_notifications(
        ALICE, kind=NotificationKind.JOIN_BUTTON_WITHDRAWN)}
    assert sorted(notices) == sorted(n.key for n in written.withdrawn)
    first = notices[written.withdrawn[0].key]
    assert (dict(first.payload), first.state, first.start, first.end) == (
        dict(written.withdrawn[0].payload), DeliveryState.PENDING, buttons["e1"].start,
        buttons["e1"].end)
    assert dict(first.payload)["button"] == buttons["e1"].key
    delivered = {n.event_id: n.key for n in await store.list_notifications(
        ALICE, state=DeliveryState.DELIVERED)}
    assert delivered == {e: buttons[e].key for e in ("e2", "e4", "e5")}
    assert (await write_sync(write)).withdrawn == ()  # nothing twice

    # a full sync that no longer lists e4: its meeting is gone, so is its button
    written = await write_sync(replace(write, deleted_event_ids=[], full_sync=True,
                                       cursor="c3"))
    assert [(n.event_id, dict(n.payload)["reason"]) for n in written.withdrawn] == [
        ("e4", "cancelled")]
    delivered = {n.event_id: n.key for n in await store.list_notifications(
        ALICE, state=DeliveryState.DELIVERED)}
    assert delivered == {e: buttons[e].key for e in ("e2", "e5")}
