"""Out-of-office presence: read each active user's vacation responder, announce changes
through the notification outbox."""

from __future__ import annotations

import enum
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from hybrid_calendar.engine.notify import immediate, try_enqueued
from hybrid_calendar.errors import GatewayError
from hybrid_calendar.models import (
    NotificationKind,
    OutOfOffice,
    ScheduledNotification,
    User,
    UserState,
)

if TYPE_CHECKING:
    from hybrid_calendar.gateway import Gateway

log = logging.getLogger(__name__)


async def poll_presence(gateway: Gateway, users: Sequence[User] | None = None) -> None:
    """Read each active user's vacation responder when due; announce changes.

    :param users: the active users, when the caller listed them already (the sweep
        lists them once for all its per-user reads)."""
    interval = timedelta(minutes=float(gateway.config.get("presence", "poll_minutes")))
    polled = _presence_polls(gateway)
    now = gateway.clock.now()
    if users is None:
        users = await gateway.store.list_users(state=UserState.ACTIVE)
    for user in users:
        last = polled.get(user.id)
        if last is not None and now - last < interval:
            continue
        record_presence_poll(gateway, user, now)
        await update_presence(gateway, user, now)


def _presence_polls(gateway: Gateway) -> dict[str, datetime]:
    return gateway.memory.presence_polled


def record_presence_poll(gateway: Gateway, user: User, at: datetime) -> None:
    """Remember when a user's out-of-office state was last read."""
    _presence_polls(gateway)[user.id] = at


class Unread(enum.Enum):
    """The stored out-of-office state was not read yet (:func:`update_presence` reads it)."""

    UNREAD = "unread"


UNREAD = Unread.UNREAD
"""The default of :func:`update_presence`'s ``stored``: read the stored state."""


@dataclass(frozen=True, slots=True)
class PresenceChange:
    """An out-of-office state that differs from the stored one: the state, and the
    presence notification announcing it (:func:`~.notify.immediate`: the outbox item,
    its first attempt and the sinks that try it at once)."""

    active: bool
    item: ScheduledNotification
    first_attempt: datetime
    sinks: Sequence[str]


async def presence_change(gateway: Gateway, user: User, now: datetime,
                          known: OutOfOffice | None = None, *,
                          stored: bool | Unread | None = UNREAD
                          ) -> tuple[bool | None, PresenceChange | None]:
    """Read one user's out-of-office state and compare it with the stored one: the state
    read (``None`` when it could not be read: logged) and the change to store and
    announce (``None`` when there is none). Parameters as :func:`update_presence`."""
    ooo = known
    if ooo is None:
        try:
            ooo = await gateway.hooks.read_out_of_office(gateway, user)
        except GatewayError as err:
            log.warning("out-of-office of user %s not read: %s", user.id, err)
            return None, None
    active = ooo.active_at(now)
    if stored is UNREAD:
        stored = (await gateway.store.get_sync_state(user.id)).out_of_office
    if stored is active:
        return active, None
    item, first_attempt, sinks = immediate(gateway, user, NotificationKind.PRESENCE, {
        "out_of_office": active, "until": ooo.end.isoformat() if active and ooo.end else None},
        f"presence:{user.id}:{int(active)}:{now.isoformat()}")
    return active, PresenceChange(active, item, first_attempt, sinks)


async def update_presence(gateway: Gateway, user: User, now: datetime,
                          known: OutOfOffice | None = None, *,
                          stored: bool | Unread | None = UNREAD) -> bool | None:
    """Read one user's out-of-office state; on a change, store it and hand the change to
    the notification outbox (which delivers it on a sink's receipt, retries, or keeps a
    dead letter). Returns the state read. Never raises: presence is best effort.

    :param known: the state just read by someone else (activation's validation), so it
        is not read twice.
    :param stored: the stored state (``SyncState.out_of_office``) when the caller read
        it and nobody can have changed it since (a first activation, which read it with
        the user); by default it is read from the store.
    """
    active, change = await presence_change(gateway, user, now, known, stored=stored)
    if change is None:
        return active
    try:
        added = await gateway.store.enqueue_notification(
            user, change.item, supersede=True, next_attempt_at=change.first_attempt)
        await try_enqueued(gateway, user, change.item, change.sinks, added)
    except Exception as err:  # the store failed: the next poll sees the change again
        log.warning("presence of user %s not queued (next poll retries): %s: %s",
                    user.id, type(err).__name__, err)
        return active
    await gateway.store.set_out_of_office(user.id, change.active)
    return active
