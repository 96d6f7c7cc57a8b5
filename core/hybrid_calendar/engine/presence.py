"""Out-of-office presence: read each active user's vacation responder, announce changes
through the notification outbox."""

from __future__ import annotations

import enum
import logging
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from hybrid_calendar.engine.notify import notify_now
from hybrid_calendar.errors import GatewayError
from hybrid_calendar.models import NotificationKind, OutOfOffice, User, UserState

if TYPE_CHECKING:
    from hybrid_calendar.gateway import Gateway

log = logging.getLogger(__name__)


async def poll_presence(gateway: Gateway) -> None:
    """Read each active user's vacation responder when due; announce changes."""
    interval = timedelta(minutes=float(gateway.config.get("presence", "poll_minutes")))
    polled = _presence_polls(gateway)
    now = gateway.clock.now()
    for user in await gateway.store.list_users(state=UserState.ACTIVE):
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
    ooo = known
    if ooo is None:
        try:
            ooo = await gateway.hooks.read_out_of_office(gateway, user)
        except GatewayError as err:
            log.warning("out-of-office of user %s not read: %s", user.id, err)
            return None
    active = ooo.active_at(now)
    if stored is UNREAD:
        stored = (await gateway.store.get_sync_state(user.id)).out_of_office
    if stored is not active:
        try:
            await notify_now(gateway, user, NotificationKind.PRESENCE, {
                "out_of_office": active,
                "until": ooo.end.isoformat() if active and ooo.end else None},
                key=f"presence:{user.id}:{int(active)}:{now.isoformat()}")
        except Exception as err:  # the store failed: the next poll sees the change again
            log.warning("presence of user %s not queued (next poll retries): %s: %s",
                        user.id, type(err).__name__, err)
            return active
        await gateway.store.set_out_of_office(user.id, active)
    return active
