"""The periodic sweep: channel renewal, safety re-sync, presence poll, calendar settings,
retention purge."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from hybrid_calendar.engine.activation import open_channel
from hybrid_calendar.engine.presence import poll_presence
from hybrid_calendar.engine.sync import retention_window
from hybrid_calendar.engine.user_settings import refresh_user_settings
from hybrid_calendar.errors import GatewayError, ProviderError
from hybrid_calendar.log_limits import gateway_limiter
from hybrid_calendar.models import Channel, UserState

if TYPE_CHECKING:
    from hybrid_calendar.gateway import Gateway

log = logging.getLogger(__name__)

RENEW_RETRY_FIRST = timedelta(minutes=1)
"""How long a user's refused or failed channel renewal waits before it is tried again;
each further failure in a row doubles the wait, up to :data:`RENEW_RETRY_MAX`. Without it,
every sweep (``sync.sweep_seconds``) would ask Google again for every such user: a push
address Google stopped accepting would spend the project's quota and log a line per user
per sweep."""
RENEW_RETRY_MAX = timedelta(hours=1)
RENEWAL_LOG_KEY = "engine.channel_renewals"
"""Where the gateway's :class:`~hybrid_calendar.log_limits.LogLimiter` for failed renewals
lives in ``gateway.state``: one line per kind of failure per minute, however many users
share it."""


async def run_sweep(gateway: Gateway) -> None:
    """One pass of every periodic duty; each step's failure is logged, never fatal."""
    for step in (renew_channels, resync_quiet_users, poll_users, purge_expired,
                 rekey_data_keys):
        try:
            await step(gateway)
        except Exception:
            log.exception("sweep step %s failed", step.__name__)


async def poll_users(gateway: Gateway) -> None:
    """The sweep's reads of each active user's own settings, over one listing of the
    active users (decrypting every address costs ≈ 11 ms per 1,000 users): the vacation
    responder when due (:func:`~.presence.poll_presence`), then the calendar language and
    time zone when due (:func:`~.user_settings.refresh_user_settings`). Either failing
    leaves the other to run."""
    users = await gateway.store.list_users(state=UserState.ACTIVE)
    for step in (poll_presence, refresh_user_settings):
        try:
            await step(gateway, users)
        except Exception:
            log.exception("sweep step %s failed", step.__name__)


def renewal_pause(failures: int) -> timedelta:
    """How long a channel renewal waits after ``failures`` failed ones in a row."""
    pause: timedelta = RENEW_RETRY_FIRST * 2 ** min(failures - 1, 30)
    return min(pause, RENEW_RETRY_MAX)


async def renew_channels(gateway: Gateway) -> None:
    """Open a channel for active users without one; replace those expiring soon.

    A user whose renewal failed is tried again only after :func:`renewal_pause` (the old
    channel serves until it expires, and the safety re-sync covers a user without one);
    failures are logged at most once a minute per kind, with a count.
    """
    now = gateway.clock.now()
    horizon = now + timedelta(hours=float(gateway.config.get("sync",
                                                             "channel_renew_before_hours")))
    pending = gateway.memory.channel_renewals
    by_user: dict[str, list[Channel]] = {}
    for channel in await gateway.store.list_channels():
        by_user.setdefault(channel.user_id, []).append(channel)
    active = await gateway.store.list_user_ids(state=UserState.ACTIVE)  # no address opened
    for gone in pending.keys() - set(active):
        del pending[gone]
    for user_id in active:
        channels = by_user.get(user_id, [])
        fresh = [c for c in channels if c.expires_at > horizon]
        if fresh:
            pending.pop(user_id, None)
            continue
        failed = pending.get(user_id)
        if failed is not None and now < failed[1]:
            continue  # failed lately: its pause is not over
        user = await gateway.store.get_user(user_id)  # the few due: read one by one
        if user is None or user.state != UserState.ACTIVE:
            pending.pop(user_id, None)
            continue  # deleted or deactivated since the listing
        failure = await open_channel(gateway, user)
        if failure is not None:  # not renewed: the old channel stays until it expires
            failures = (failed[0] if failed else 0) + 1
            pause = renewal_pause(failures)
            pending[user.id] = (failures, now + pause)
            _log_renewal_failure(gateway, user.id, failure, pause)
            continue
        pending.pop(user.id, None)
        for old in channels:
            try:
                await gateway.hooks.stop_watch(gateway, user, old)
            except GatewayError as err:
                log.info("old channel of user %s not stopped: %s", user.id, err)
            await gateway.store.delete_channel(old.id)


def _log_renewal_failure(gateway: Gateway, user_id: str, failure: GatewayError,
                         pause: timedelta) -> None:
    kind = type(failure).__name__
    if isinstance(failure, ProviderError) and failure.status is not None:
        kind += f"/{failure.status}"  # bounded: a class and an HTTP status
    gateway_limiter(gateway, RENEWAL_LOG_KEY, log).log(
        logging.WARNING, kind,
        "push channel of user %s not renewed (tried again in %d s; the old channel serves "
        "until it expires, the safety re-sync covers the rest): %s",
        user_id, int(pause.total_seconds()), failure)


async def resync_quiet_users(gateway: Gateway) -> None:
    """Safety net for lost notifications: re-sync users not synced for a while."""
    assert gateway.engine is not None
    quiet = timedelta(minutes=float(gateway.config.get("sync", "safety_resync_minutes")))
    now = gateway.clock.now()
    synced = {s.user_id: s.last_sync_at for s in await gateway.store.list_sync_states()}
    for user_id in await gateway.store.list_user_ids(state=UserState.ACTIVE):
        last = synced.get(user_id)
        if last is None or now - last >= quiet:
            await gateway.engine.request_sync(user_id, "safety")


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
    for user_id in await gateway.store.list_user_ids(state=UserState.ACTIVE):
        last = synced.get(user_id)
        if last is None or last < started:
            await gateway.engine.request_sync(user_id, "catch-up")
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
