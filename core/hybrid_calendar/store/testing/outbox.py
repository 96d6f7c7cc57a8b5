"""Store suite, part 4: the notification outbox (schedules, claims, receipts, dead letters)."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from hybrid_calendar.models import DeliveryState, NotificationKind, SinkDelivery
from hybrid_calendar.store.base import DeliveryRecord, Store
from hybrid_calendar.store.testing.samples import ALICE, BOB, join_button, presence, seed
from hybrid_calendar.store.testing.support import NOW, StoreFixtures, covers

MINUTE = timedelta(minutes=1)
JOIN = [NotificationKind.JOIN_BUTTON]
PRESENCE = [NotificationKind.PRESENCE]


class OutboxTests(StoreFixtures):
    """What the delivery loop relies on: at most one claim at a time, receipts kept."""

    @pytest.mark.anyio
    @covers("schedule", "list_notifications")
    async def test_schedule_upserts_by_key_and_replaces_a_moved_meetings_buttons(
            self, store: Store) -> None:
        await seed(store)
        first = join_button("e1", key="k-first")
        second = join_button("e1", key="k-second", due=NOW + 10 * MINUTE)
        await store.schedule(ALICE, [first, second])
        await store.schedule(ALICE, [first, second])  # idempotent
        assert [n.key for n in await store.list_notifications(ALICE)] == ["k-first",
                                                                          "k-second"]
        for key in ("withdrawn|k-second|1.000000", "withdrawn|k-first|2.000000"):
            assert await store.enqueue_notification(ALICE, replace(
                join_button("e1", key=key), kind=NotificationKind.JOIN_BUTTON_WITHDRAWN))
        moved = replace(first, due_at=NOW + 20 * MINUTE, payload={"title": "Moved"})
        await store.schedule(ALICE, [moved], replace_for_events=["e1"])
        # a withdrawal waiting for its sink stays, unless its button is scheduled again
        assert [n.key for n in await store.list_notifications(
            ALICE, kind=NotificationKind.JOIN_BUTTON_WITHDRAWN)] == [
            "withdrawn|k-second|1.000000"]
        [kept] = await store.list_notifications(ALICE, kind=NotificationKind.JOIN_BUTTON)
        assert (kept.key, kept.due_at, dict(kept.payload)) == ("k-first", moved.due_at,
                                                               {"title": "Moved"})
        assert (kept.kind, kept.state, kept.event_id) == (NotificationKind.JOIN_BUTTON,
                                                          DeliveryState.PENDING, "e1")

    @pytest.mark.anyio
    @covers("due_notifications")
    async def test_due_notifications_claims_due_ones_of_the_kinds_asked_for(
            self, store: Store) -> None:
        await seed(store, ALICE, BOB)
        due = join_button("due")
        later = join_button("later", due=NOW + 10 * MINUTE)
        ended = join_button("ended", due=NOW - 60 * MINUTE, ends=NOW - MINUTE)
        await store.schedule(ALICE, [due, later, ended])
        await store.enqueue_notification(BOB, presence("away", user=BOB))
        assert await store.due_notifications(NOW, []) == []
        [(user, claimed)] = await store.due_notifications(NOW, JOIN, lease_seconds=120)
        assert user == ALICE  # with the user, address decrypted
        assert (claimed.key, dict(claimed.payload), claimed.deliveries) == (
            due.key, dict(due.payload), {})
        assert await store.due_notifications(NOW, JOIN) == []  # leased: no second claim
        [(owner, away)] = await store.due_notifications(NOW, PRESENCE)
        assert (owner, away.key, away.end) == (BOB, "away", None)  # no meeting, no end
        lease_over = NOW + 2 * MINUTE
        assert [n.key for _, n in await store.due_notifications(lease_over, JOIN)] == [
            due.key]
        keys = [n.key for _, n in await store.due_notifications(NOW + 11 * MINUTE, JOIN,
                                                                  limit=1)]
        assert keys == [due.key] or keys == [later.key]
        assert len(await store.due_notifications(NOW + 11 * MINUTE, JOIN)) == 1

    @pytest.mark.anyio
    @covers("ended_notifications", "record_deliveries")
    async def test_ended_notifications_finds_pending_buttons_of_past_meetings(
            self, store: Store) -> None:
        await seed(store, ALICE, BOB)
        ended = join_button("ended", due=NOW - 60 * MINUTE, ends=NOW - MINUTE)
        ends_now = join_button("ends-now", due=NOW - 40 * MINUTE, ends=NOW)
        running = join_button("running")
        delivered = join_button("delivered", due=NOW - 60 * MINUTE, ends=NOW - MINUTE)
        await store.schedule(ALICE, [ended, ends_now, running, delivered])
        await store.schedule(BOB, [join_button("bob", user=BOB, due=NOW - 60 * MINUTE,
                                               ends=NOW - MINUTE)])
        await store.enqueue_notification(ALICE, presence("away"))  # no meeting: never ends
        await store.record_deliveries(ALICE, delivered.key, [SinkDelivery(
            "webex", DeliveryState.DELIVERED, attempts=1, updated_at=NOW)],
            DeliveryState.DELIVERED, None, NOW)
        assert await store.ended_notifications(NOW, []) == []
        assert await store.ended_notifications(NOW, PRESENCE) == []
        found = await store.ended_notifications(NOW, JOIN)
        assert sorted((user.id, n.key) for user, n in found) == sorted([
            (ALICE.id, ended.key), (ALICE.id, ends_now.key),
            (BOB.id, join_button("bob", user=BOB).key)])
        assert all(n.state is DeliveryState.PENDING for _, n in found)
        again = await store.ended_notifications(NOW, JOIN)  # no lease: still there
        assert len(again) == 3
        assert len(await store.ended_notifications(NOW, JOIN, limit=2)) == 2
        later = await store.ended_notifications(NOW + 60 * MINUTE, JOIN)
        assert running.key in {n.key for _, n in later} and len(later) == 4

    @pytest.mark.anyio
    @covers("enqueue_notification", "list_notifications", "due_notifications")
    async def test_enqueue_notification_adds_once_and_supersedes_older_pending(
            self, store: Store) -> None:
        await seed(store)
        assert await store.enqueue_notification(ALICE, presence("p1")) is True
        assert await store.enqueue_notification(ALICE, presence("p1", away=False)) is False
        assert await store.enqueue_notification(ALICE, join_button("e1")) is True
        newer = presence("p2", away=False)
        assert await store.enqueue_notification(ALICE, newer, supersede=True) is True
        listed = await store.list_notifications(ALICE, kind=NotificationKind.PRESENCE)
        assert [(n.key, dict(n.payload)) for n in listed] == [("p2", {"out_of_office": False})]
        assert len(await store.list_notifications(ALICE)) == 2  # the Join button stays
        leased = presence("p3")
        assert await store.enqueue_notification(ALICE, leased,
                                                next_attempt_at=NOW + 2 * MINUTE)
        due = [n.key for _, n in await store.due_notifications(NOW, PRESENCE,
                                                                 lease_seconds=600)]
        assert due == ["p2"]  # p3's first attempt belongs to whoever delivers it now
        due = [n.key for _, n in await store.due_notifications(NOW + 2 * MINUTE, PRESENCE)]
        assert due == ["p3"]

    @pytest.mark.anyio
    @covers("record_deliveries", "list_notifications", "due_notifications", "schedule")
    async def test_record_deliveries_keeps_receipts_and_the_overall_state(
            self, store: Store) -> None:
        await seed(store)
        button = join_button("e1")
        await store.schedule(ALICE, [button])
        retry_at = NOW + 5 * MINUTE
        failed = SinkDelivery("webex", DeliveryState.PENDING, attempts=1,
                              reason="HTTP 503 from the device", next_attempt_at=retry_at,
                              updated_at=NOW)
        await store.record_deliveries(ALICE, button.key, [failed], DeliveryState.PENDING,
                                      retry_at, NOW)
        assert await store.due_notifications(NOW + MINUTE, JOIN) == []
        [(_, claimed)] = await store.due_notifications(retry_at, JOIN)
        assert claimed.deliveries == {"webex": failed}
        done_at = retry_at + MINUTE
        delivered = SinkDelivery("webex", DeliveryState.DELIVERED, attempts=2,
                                 updated_at=done_at)
        skipped = SinkDelivery("other", DeliveryState.SKIPPED, updated_at=done_at)
        await store.record_deliveries(ALICE, button.key, [delivered, skipped],
                                      DeliveryState.DELIVERED, None, done_at)
        [sent] = await store.list_notifications(ALICE, state=DeliveryState.DELIVERED)
        assert (sent.key, sent.sent_at) == (button.key, done_at)
        assert sent.deliveries == {"webex": delivered, "other": skipped}
        await store.schedule(ALICE, [replace(button, due_at=NOW + 30 * MINUTE)])
        assert (await store.list_notifications(ALICE))[0].due_at == button.due_at
        assert await store.due_notifications(NOW + 60 * MINUTE, JOIN) == []  # never again
        await store.record_deliveries(ALICE, "gone", [delivered], DeliveryState.DELIVERED,
                                      None, done_at)  # superseded meanwhile: left alone
        assert [n.key for n in await store.list_notifications(ALICE)] == [button.key]

    @pytest.mark.anyio
    @covers("record_many_deliveries", "list_notifications")
    async def test_record_many_deliveries_saves_each_and_skips_removed_ones(
            self, store: Store) -> None:
        await seed(store, ALICE, BOB)
        buttons = [join_button(f"e{i}") for i in range(3)]
        await store.schedule(ALICE, buttons)
        await store.enqueue_notification(BOB, presence("p-bob", user=BOB))
        at = NOW + MINUTE
        delivered = SinkDelivery("webex", DeliveryState.DELIVERED, attempts=1, updated_at=at)
        retry = SinkDelivery("webex", DeliveryState.PENDING, attempts=1, reason="HTTP 503",
                             next_attempt_at=at + MINUTE, updated_at=at)
        await store.record_many_deliveries([
            DeliveryRecord(ALICE, buttons[0].key, [delivered], DeliveryState.DELIVERED,
                           None, at),
            DeliveryRecord(ALICE, "gone", [delivered], DeliveryState.DELIVERED, None, at),
            DeliveryRecord(ALICE, buttons[1].key, [retry], DeliveryState.PENDING,
                           at + MINUTE, at),
            DeliveryRecord(BOB, "p-bob", [delivered], DeliveryState.DELIVERED, None, at)])
        await store.record_many_deliveries([])
        by_key = {n.key: n for n in await store.list_notifications(ALICE)}
        assert sorted(by_key) == sorted(b.key for b in buttons)  # "gone" left alone
        assert (by_key[buttons[0].key].state, by_key[buttons[0].key].sent_at) == (
            DeliveryState.DELIVERED, at)
        assert by_key[buttons[1].key].deliveries == {"webex": retry}
        assert by_key[buttons[1].key].state is DeliveryState.PENDING
        assert by_key[buttons[2].key].deliveries == {}
        [bobs] = await store.list_notifications(BOB)
        assert (bobs.state, bobs.deliveries) == (DeliveryState.DELIVERED,
                                                 {"webex": delivered})

    @pytest.mark.anyio
    @covers("list_notifications", "record_deliveries")
    async def test_list_notifications_filters_by_state_and_kind(self, store: Store) -> None:
        await seed(store, ALICE, BOB)
        await store.schedule(ALICE, [join_button("e1"), join_button("e2")])
        await store.enqueue_notification(ALICE, presence("p1"))
        await store.enqueue_notification(BOB, presence("p-bob", user=BOB))
        dead = SinkDelivery("webex", DeliveryState.DEAD, attempts=8, reason="gave up",
                            updated_at=NOW)
        await store.record_deliveries(ALICE, join_button("e2").key, [dead],
                                      DeliveryState.DEAD, None, NOW)
        everything = await store.list_notifications(ALICE)
        assert len(everything) == 3 and all(n.user_id == ALICE.id for n in everything)
        [letter] = await store.list_notifications(ALICE, state=DeliveryState.DEAD)
        assert (letter.key, letter.sent_at, letter.deliveries) == (
            join_button("e2").key, None, {"webex": dead})
        pending_joins = await store.list_notifications(
            ALICE, state=DeliveryState.PENDING, kind=NotificationKind.JOIN_BUTTON)
        assert [n.key for n in pending_joins] == [join_button("e1").key]
        assert await store.list_notifications(BOB, kind=NotificationKind.JOIN_BUTTON) == []

    @pytest.mark.anyio
    @covers("delivered_join_buttons", "forget_notifications", "record_deliveries",
            "schedule")
    async def test_delivered_join_buttons_can_be_found_and_forgotten(
            self, store: Store) -> None:
        """What withdrawing a Join button relies on: the delivered buttons of some events
        whose meeting has not ended, and deleting them (their per-sink records with them)
        so the same key can be scheduled and delivered again."""
        await seed(store, ALICE, BOB)
        sent, ended, waiting = (join_button("e1"), join_button("e2", ends=NOW - MINUTE),
                                join_button("e3"))
        other = join_button("e1", user=BOB)
        await store.schedule(ALICE, [sent, ended, waiting])
        await store.schedule(BOB, [other])
        delivered = SinkDelivery("webex", DeliveryState.DELIVERED, attempts=1, updated_at=NOW)
        for user, key in ((ALICE, sent.key), (ALICE, ended.key), (BOB, other.key)):
            await store.record_deliveries(user, key, [delivered], DeliveryState.DELIVERED,
                                          None, NOW)
        found = await store.delivered_join_buttons(ALICE, ["e1", "e2", "e3", "e9"],
                                                   ending_after=NOW)
        assert [(n.key, n.event_id, n.start, n.end, n.sent_at, n.state) for n in found] == [
            (sent.key, "e1", sent.start, sent.end, NOW, DeliveryState.DELIVERED)]
        assert await store.delivered_join_buttons(ALICE, [], ending_after=NOW) == []
        assert [n.key for n in await store.delivered_join_buttons(
            ALICE, None, ending_after=NOW)] == [sent.key]  # of any event
        assert sent.end is not None
        assert await store.delivered_join_buttons(ALICE, ["e1"], ending_after=sent.end) == []

        assert await store.forget_notifications(ALICE, [sent.key, other.key, "none"]) == 1
        assert await store.forget_notifications(ALICE, []) == 0
        assert [n.key for n in await store.list_notifications(ALICE)] == [ended.key,
                                                                          waiting.key]
        assert [n.key for n in await store.list_notifications(BOB)] == [other.key]  # Bob's
        await store.schedule(ALICE, [sent])  # the key is free: pending again, no receipts
        again = {n.key: n for n in await store.list_notifications(ALICE)}[sent.key]
        assert (again.state, again.deliveries, again.sent_at) == (DeliveryState.PENDING, {},
                                                                  None)
