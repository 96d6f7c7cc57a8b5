"""Withdrawing a delivered Join button whose meeting no longer holds it.

A Join button is delivered the lead time before its meeting starts. When a sync then
finds that meeting cancelled or deleted, moved (its button's key, made of the start, is
gone), declined by the user or without join information, before the meeting ended, the
sinks that deliver :attr:`~hybrid_calendar.models.NotificationKind.JOIN_BUTTON_WITHDRAWN`
are told, with the withdrawn button's key: a Webex Join card is deleted, a stream or
webhook client drops its button.

The withdrawal is part of the sync's store write (:attr:`SyncWrite.withdraw`): in the same
transaction as the meetings, the store deletes each delivered button the write undoes
(with its receipts, so a meeting that holds again, accepted again or moved back, gets its
button scheduled and delivered anew) and enqueues its notice
(:func:`~hybrid_calendar.withdrawal_notices.withdrawal_notice`). A change is never stored
without its withdrawal, even when the process dies right after the write: the outbox loop
delivers what the sync did not get to try.

Nothing is asked of the store when no enabled sink delivers withdrawals, or on a user's
first sync (no button of theirs can have been delivered); otherwise the write reads the
user's delivered Join buttons whose meeting has not ended (a handful of rows, by index).
"""

from __future__ import annotations

import logging
from collections.abc import Collection, Sequence
from datetime import timedelta
from typing import TYPE_CHECKING

from hybrid_calendar.engine.delivery import sinks_by_kind
from hybrid_calendar.engine.notify import claim_seconds, try_enqueued
from hybrid_calendar.models import NotificationKind, ScheduledNotification, User
from hybrid_calendar.store.base import WithdrawPlan

if TYPE_CHECKING:
    from hybrid_calendar.gateway import Gateway

log = logging.getLogger(__name__)

KIND = NotificationKind.JOIN_BUTTON_WITHDRAWN


def withdraw_plan(gateway: Gateway, *, first_sync: bool, moved_away: Collection[str] = ()
                  ) -> WithdrawPlan | None:
    """What a sync's write needs to withdraw the delivered Join buttons it undoes
    (:attr:`SyncWrite.withdraw`; ``moved_away``: the events it deletes because they moved
    out of the kept window), or ``None`` when nothing can be withdrawn: the user's first
    sync, or no enabled sink delivers withdrawals. The notices' first attempt is a lease
    ahead: :func:`try_withdrawals` tries them right after the write."""
    if first_sync or not sinks_by_kind(gateway.hooks)[KIND]:
        return None
    now = gateway.clock.now()
    return WithdrawPlan(at=now, first_attempt=now + timedelta(seconds=claim_seconds(gateway)),
                        moved_away=frozenset(moved_away))


async def try_withdrawals(gateway: Gateway, user: User,
                          notices: Sequence[ScheduledNotification]) -> None:
    """Try the withdrawal ``notices`` a sync's write enqueued, at once; one that fails
    stays in the outbox, whose loop tries it again after its lease."""
    sinks = sinks_by_kind(gateway.hooks)[KIND]
    for notice in notices:
        try:
            await try_enqueued(gateway, user, notice, sinks, True)
        except Exception as err:  # the outbox holds it
            log.warning("Join button withdrawal for user %s not tried now: %s: %s",
                        user.id, type(err).__name__, err)
