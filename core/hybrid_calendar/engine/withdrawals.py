"""Withdrawing a delivered Join button whose meeting no longer holds it.

A Join button is delivered the lead time before its meeting starts. When a sync then
finds that meeting cancelled or deleted, moved (its button's key, made of the start, is
gone), declined by the user or without join information, before the meeting ended, the
sinks that deliver :attr:`~hybrid_calendar.models.NotificationKind.JOIN_BUTTON_WITHDRAWN`
are told, with the withdrawn button's key: a Webex Join card is deleted, a stream or
webhook client drops its button. The delivered button's outbox row is deleted with its
receipts (:meth:`Store.forget_notifications`), so a meeting that holds again (accepted
again, moved back) gets its button scheduled and delivered anew.

Costs nothing when no enabled sink delivers withdrawals (nothing is read), and nothing on
a user's first sync (no button of theirs can have been delivered); otherwise one store
read per sync that changed meetings. The withdrawal is enqueued before the delivered row
is deleted, under a key made of the button's key and its delivery time, so a repeat after
a crash between the two sends nothing twice.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime
from typing import TYPE_CHECKING

from hybrid_calendar.engine.delivery import sinks_by_kind
from hybrid_calendar.engine.notify import immediate, try_enqueued
from hybrid_calendar.models import Meeting, NotificationKind, ScheduledNotification, User

if TYPE_CHECKING:
    from hybrid_calendar.gateway import Gateway

log = logging.getLogger(__name__)

KIND = NotificationKind.JOIN_BUTTON_WITHDRAWN


async def withdraw_join_buttons(gateway: Gateway, user: User, changed: Sequence[Meeting],
                                deleted_event_ids: Sequence[str],
                                buttons: Sequence[ScheduledNotification]) -> int:
    """After a sync's write: withdraw the user's delivered Join buttons of the ``changed``
    meetings and the deleted events that are no longer among ``buttons`` (the Join
    buttons the sync scheduled); returns how many were withdrawn."""
    if not sinks_by_kind(gateway.hooks)[KIND]:
        return 0  # no one to tell: a delivered button stays as it was
    event_ids = [meeting.event_id for meeting in changed] + list(deleted_event_ids)
    if not event_ids:
        return 0
    now = gateway.clock.now()
    store = gateway.store
    delivered = await store.delivered_join_buttons(user, event_ids, ending_after=now)
    current = {item.key for item in buttons}
    stale = [item for item in delivered if item.key not in current]
    if not stale:
        return 0
    meetings = {meeting.event_id: meeting for meeting in changed}
    enqueued = []
    for item in stale:
        notice, claimed, sinks = withdrawal(gateway, user, item,
                                            meetings.get(item.event_id or ""), now)
        added = await store.enqueue_notification(user, notice, next_attempt_at=claimed)
        enqueued.append((notice, sinks, added))
    await store.forget_notifications(user, [item.key for item in stale])
    for notice, sinks, added in enqueued:
        try:
            await try_enqueued(gateway, user, notice, sinks, added)
        except Exception as err:  # the outbox holds it: its loop tries it again
            log.warning("Join button withdrawal for user %s not tried now: %s: %s",
                        user.id, type(err).__name__, err)
    return len(stale)


def withdrawal(gateway: Gateway, user: User, button: ScheduledNotification,
               meeting: Meeting | None, now: datetime
               ) -> tuple[ScheduledNotification, datetime, Sequence[str]]:
    """The withdrawal of the delivered ``button`` (whose meeting is now ``meeting``, or
    ``None`` when it was deleted): the outbox item, its first attempt and its sinks, as
    :func:`~hybrid_calendar.engine.notify.immediate` gives them; it is never delivered
    after the meeting's end."""
    sent = (button.sent_at or button.due_at).timestamp()
    item, claimed, sinks = immediate(gateway, user, KIND, {
        "event_id": button.event_id, "button": button.key,
        "start": button.start.isoformat() if button.start else None,
        "end": button.end.isoformat() if button.end else None,
        "reason": reason(user, button, meeting)}, f"withdrawn|{button.key}|{sent:.6f}")
    return replace(item, event_id=button.event_id, start=button.start, end=button.end,
                   due_at=now), claimed, sinks


def reason(user: User, button: ScheduledNotification, meeting: Meeting | None) -> str:
    """Why the button no longer holds: ``cancelled`` (or deleted), ``declined``,
    ``no_join`` or ``moved``."""
    if meeting is None or meeting.status == "cancelled":
        return "cancelled"
    if meeting.declined_by(user.email):
        return "declined"
    if meeting.join is None:
        return "no_join"
    return "moved"  # its start (the button's key) changed, or it became all-day
