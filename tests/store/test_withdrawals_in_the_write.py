"""The built-in stores withdraw, in a sync's own write, the Join buttons a sink may show:
delivered ones, and ones due and still pending (a sink may have shown them while another
failed, or an attempt may be in flight). On SQLite and on both of PostgreSQL's paths (one
statement; separate statements when an incremental sync deletes and lists the same id)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from hybrid_calendar.models import DeliveryState, NotificationKind, SinkDelivery
from hybrid_calendar.store.base import Store, SyncWrite, WithdrawPlan
from hybrid_calendar.store.testing import NOW
from hybrid_calendar.store.testing.samples import ALICE, join_button, meeting, seed

pytestmark = pytest.mark.anyio

MINUTE = timedelta(minutes=1)


@pytest.mark.parametrize("same_id_deleted", [False, True])
async def test_buttons_due_and_pending_are_withdrawn_too_but_not_tried_at_once(
        either_store: Store, same_id_deleted: bool) -> None:
    store = either_store
    await seed(store)
    shown, owed, later, untouched = (meeting("e1"), meeting("e2", 0.05), meeting("e3", 3),
                                     meeting("e4", 0.05))
    buttons = {m.event_id: join_button(m.event_id, due=m.start - 5 * MINUTE, ends=m.end)
               for m in (shown, owed, later, untouched)}
    await store.write_sync(SyncWrite(ALICE, [shown, owed, later, untouched], [], "c1",
                                     full_sync=True, synced_at=NOW,
                                     buttons=list(buttons.values())))
    await store.record_deliveries(ALICE, buttons["e1"].key, [SinkDelivery(
        "webex", DeliveryState.DELIVERED, attempts=1, updated_at=NOW)],
        DeliveryState.DELIVERED, None, NOW)
    # e2's button fell due and is still pending: the webex sink showed it, another failed
    await store.record_deliveries(ALICE, buttons["e2"].key, [
        SinkDelivery("webex", DeliveryState.DELIVERED, attempts=1, updated_at=NOW),
        SinkDelivery("wall", DeliveryState.PENDING, attempts=1, updated_at=NOW)],
        DeliveryState.PENDING, None, NOW)
    plan = WithdrawPlan(at=NOW, first_attempt=NOW + MINUTE)
    # all three cancelled (e2 also listed again, on PostgreSQL's separate path)
    written = await store.write_sync(SyncWrite(
        ALICE, [meeting("e2", 0.05, status="cancelled")] if same_id_deleted else [],
        ["e1", "e2", "e3"], "c2", full_sync=False, synced_at=NOW, withdraw=plan))
    assert [n.event_id for n in written.withdrawn] == ["e1"]  # the delivered one, at once
    notices = await store.list_notifications(
        ALICE, kind=NotificationKind.JOIN_BUTTON_WITHDRAWN)
    assert sorted((n.event_id, n.payload["button"], n.state) for n in notices) == [
        ("e1", buttons["e1"].key, DeliveryState.PENDING),
        ("e2", buttons["e2"].key, DeliveryState.PENDING)]
    assert {n.event_id: n.key for n in await store.list_notifications(
        ALICE, kind=NotificationKind.JOIN_BUTTON)} == {"e4": buttons["e4"].key}
    # e3's button was not due (never offered): dropped, nothing to withdraw; e4 untouched
