"""The periodic sweep: channel renewal, safety re-sync, presence poll, retention purge."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from hybrid_calendar.engine.activation import open_channel
from hybrid_calendar.engine.presence import poll_presence
from hybrid_calendar.engine.sync import retention_window
from hybrid_calendar.errors import GatewayError
from hybrid_calendar.models import Channel, UserState

if TYPE_CHECKING:
    from hybrid_calendar.gateway import Gateway

log = logging.getLogger(__name__)


async def run_sweep(gateway: Gateway) -> None:
    """One pass of every periodic duty; each step's failure is logged, never fatal."""
    for step in (renew_channels, resync_quiet_users, poll_presence,
                 purge_expired, rekey_data_keys):  # poll_presence: engine/presence.py
        try:
            await step(gateway)
        except Exception:
            log.exception("sweep step %s failed", step.__name__)


async def renew_channels(gateway: Gateway) -> None:
    """Open a channel for active users without one; replace those expiring soon."""
    now = gateway.clock.now()
    horizon = now + timedelta(hours=float(gateway.config.get("sync",
                                                             "channel_renew_before_hours")))
    by_user: dict[str, list[Channel]] = {}
    for channel in await gateway.store.list_channels():
        by_user.setdefault(channel.user_id, []).append(channel)
    for user in await gateway.store.list_users(state=UserState.ACTIVE):
        channels = by_user.get(user.id, [])
        fresh = [c for c in channels if c.expires_at > horizon]
        if fresh:
            continue
        if await open_channel(gateway, user) is not None:
            continue  # not renewed: the old channel stays until it expires
        for old in channels:
            try:
                await gateway.hooks.stop_watch(gateway, user, old)
            except GatewayError as err:
                log.info("old channel of user %s not stopped: %s", user.id, err)
            await gateway.store.delete_channel(old.id)


async def resync_quiet_users(gateway: Gateway) -> None:
    """Safety net for lost notifications: re-sync users not synced for a while."""
    assert gateway.engine is not None
    quiet = timedelta(minutes=float(gateway.config.get("sync", "safety_resync_minutes")))
    now = gateway.clock.now()
    synced = {s.user_id: s.last_sync_at for s in await gateway.store.list_sync_states()}
    for user in await gateway.store.list_users(state=UserState.ACTIVE):
        last = synced.get(user.id)
        if last is None or now - last >= quiet:
            await gateway.engine.request_sync(user.id, "safety")


async def catch_up(gateway: Gateway, started: datetime) -> int:
    """At start: queue an (incremental) sync of every active user last synced before
    ``started``, so changes whose notifications were lost while no gateway ran are not
    left to the safety re-sync. The jobs go through the queue (and the provider's quota
    budget) like any other; a notification arriving meanwhile coalesces into them.

    :returns: how many users were queued.
    """
    assert gateway.engine is not None
    synced = {s.user_id: s.last_sync_at for s in await gateway.store.list_sync_states()}
    queued = 0
    for user in await gateway.store.list_users(state=UserState.ACTIVE):
        last = synced.get(user.id)
        if last is None or last < started:
            await gateway.engine.request_sync(user.id, "catch-up")
            queued += 1
    return queued


async def purge_expired(gateway: Gateway) -> None:
    """Delete meetings outside the retention window."""
    keep_from, keep_until = retention_window(gateway)
    removed = await gateway.store.purge_outside(keep_from, keep_until)
    if removed:
        log.info("purged %d meeting(s) outside the retention window", removed)


async def rekey_data_keys(gateway: Gateway) -> None:
    """Rotate data keys that reached their use or age limit."""
    await gateway.cipher.rekey_due()
